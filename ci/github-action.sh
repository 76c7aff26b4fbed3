#!/usr/bin/env bash
# The scan step of action.yml: one `probectl scan` with GitHub annotations on stdout (-o
# github), the Markdown table appended to $GITHUB_STEP_SUMMARY (probectl does that itself
# inside GitHub Actions) and a JUnit report (--report junit=FILE), from one listing of the
# cluster. Exits with probectl's exit code: the --fail-on contract.
#
# Environment: the action's inputs as INPUT_* (see action.yml), PROBECTL (the probectl
# command the install step made; default: probectl on PATH), GITHUB_OUTPUT (junit-file and
# exit-code are written there). tests/test_action.py runs this script against a local API
# server.
set -euo pipefail

probectl=${PROBECTL:-probectl}
junit=${INPUT_JUNIT_FILE:-probectl-junit.xml}
output=${GITHUB_OUTPUT:-/dev/null}

# a workflow command's message: %, CR and LF escaped
annotate() {
  local msg=${2//%/%25}
  msg=${msg//$'\r'/%0D}
  msg=${msg//$'\n'/%0A}
  printf '::%s title=probectl scan::%s\n' "$1" "$msg"
}

usage_error() {
  annotate error "$1"
  echo "exit-code=2" >> "$output"
  exit 2
}

case $junit in
  *$'\n'* | *$'\r'*) usage_error "junit-file: a path without line breaks, please" ;;
esac

# the workload input: KIND/NAME as kubectl spells it (deploy/web, deployment.apps/web, sts/db)
workload=${INPUT_WORKLOAD:-}
workload=${workload//[[:space:]]/}
if [[ -n $workload && ! $workload =~ ^[A-Za-z.]+/[a-z0-9][a-z0-9.-]*$ ]]; then
  usage_error "workload: '${INPUT_WORKLOAD}' is not KIND/NAME (deploy/web, sts/db, job/migrate)"
fi

args=(scan --output github --fail-on "${INPUT_FAIL_ON:-critical}" --report "junit=$junit")

case ${INPUT_ALL_NAMESPACES:-false} in
  true | True | TRUE) args+=(--all-namespaces) ;;
  false | False | FALSE | "") ;;
  *) usage_error "all-namespaces: true or false, not '${INPUT_ALL_NAMESPACES}'" ;;
esac

# namespaces: separated by commas, spaces or newlines (a YAML block); read, never globbed
read -r -a namespaces <<< "$(printf '%s' "${INPUT_NAMESPACE:-}" | tr ',\n\r\t' '    ')" || true
for ns in ${namespaces[@]+"${namespaces[@]}"}; do
  case $ns in
    *[!a-z0-9-]*) usage_error "namespace: '$ns' is not a namespace name" ;;
  esac
  args+=(--namespace "$ns")
done

[[ -n ${INPUT_SELECTOR:-} ]] && args+=(--selector "$INPUT_SELECTOR")
[[ -n ${INPUT_SINCE:-} ]] && args+=(--since "$INPUT_SINCE")
[[ -n ${INPUT_KUBECONFIG:-} ]] && args+=(--kubeconfig "$INPUT_KUBECONFIG")

# extra arguments: split as a shell would (quotes and backslashes), nothing expanded or run
if [[ -n ${INPUT_ARGS//[[:space:]]/} ]]; then
  words=$(mktemp)
  trap 'rm -f "$words"' EXIT
  if ! printf '%s' "$INPUT_ARGS" | tr '\n\r' '  ' | xargs printf '%s\0' > "$words" 2> /dev/null; then
    usage_error "args: unbalanced quotes in '${INPUT_ARGS}'"
  fi
  while IFS= read -r -d '' word; do
    args+=("$word")
  done < "$words"
fi

# the report's directory, as upload and test-report actions expect to find it
mkdir -p -- "$(dirname -- "$junit")" 2> /dev/null || true

printf 'probectl'
printf ' %q' "${args[@]}"
printf '\n'

status=0
"$probectl" "${args[@]}" || status=$?

# the rollout's own verdict (probectl why KIND/NAME): one more annotation, and its cause
# as an output; it fails the step like a finding unless fail-on is never
if [[ -n $workload && $status -lt 2 ]]; then
  why=(why "$workload" --output github --no-logs)
  [[ ${#namespaces[@]} -gt 0 ]] && why+=(--namespace "${namespaces[0]}")
  [[ -n ${INPUT_KUBECONFIG:-} ]] && why+=(--kubeconfig "$INPUT_KUBECONFIG")
  printf 'probectl'
  printf ' %q' "${why[@]}"
  printf '\n'
  why_status=0
  annotation=$("$probectl" "${why[@]}") || why_status=$?
  printf '%s\n' "$annotation"
  if [[ $why_status -le 1 ]]; then
    # the annotation's title starts with the cause: "::error title=create-refused%3A shop/..."
    cause=$(printf '%s\n' "$annotation" | sed -n 's/^::[a-z]* title=\([a-z-]*\)%3A .*/\1/p' | head -n 1)
    echo "workload-cause=$cause" >> "$output"
  else
    annotate error "probectl why $workload ended with exit code $why_status: see the error line in the log"
  fi
  case ${INPUT_FAIL_ON:-critical} in
    never) ;;
    *) [[ $why_status -gt $status ]] && status=$why_status ;;
  esac
fi

{
  echo "junit-file=$junit"
  echo "exit-code=$status"
} >> "$output"

case $status in
  0 | 1) ;;
  2) annotate error "probectl refused its input (exit 2): see the error line in the log" ;;
  3) annotate error "probectl could not read the cluster (exit 3): see the error line in the log" ;;
  *) annotate error "probectl ended with exit code $status" ;;
esac
exit "$status"
