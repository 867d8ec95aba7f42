# The probe handler of `ember conform` for the Bash runtime beside it
# (_HANDLER=conform_probe.handler). `handler EVENT_FILE` writes the answer to stdout, or fails
# with the error message on stderr. The event's "conform" field says what to do; see
# docs/runtimes.md ("Checking a runtime"). The bootstrap sets REQUEST_ID, DEADLINE_MS,
# FUNCTION_ARN, CLIENT_CONTEXT, COGNITO_IDENTITY and exports _X_AMZN_TRACE_ID.

json_string() {  # $1 as a JSON string (the values here hold no control characters)
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

handler() {
  local event=$1 head command
  head=$(head -c 200 "$event")
  [[ $head =~ \"conform\":\"([a-z]+)\" ]] && command=${BASH_REMATCH[1]}
  case $command in
    echo) cat "$event" ;;
    env)
      local now remaining trace=null
      now=$(date +%s%3N)
      remaining=$((DEADLINE_MS - now))
      ((remaining < 0)) && remaining=0
      [[ -v _X_AMZN_TRACE_ID ]] && trace=$(json_string "$_X_AMZN_TRACE_ID")
      printf '{"request_id":%s,"remaining_ms":%d,"invoked_function_arn":%s,"trace_id":%s,' \
        "$(json_string "$REQUEST_ID")" "$remaining" "$(json_string "$FUNCTION_ARN")" "$trace"
      # The headers are JSON already: passed on as they came.
      printf '"client_context":%s,"cognito_identity":%s}' \
        "${CLIENT_CONTEXT:-null}" "${COGNITO_IDENTITY:-null}"
      ;;
    error)
      local message="conform probe error"
      [[ $head =~ \"message\":\"([^\"]*)\" ]] && message=${BASH_REMATCH[1]}
      echo "$message" >&2
      return 1
      ;;
    sleep)
      [[ $head =~ \"ms\":([0-9]+) ]] || return 1
      local ms=${BASH_REMATCH[1]}
      sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
      printf '{"slept_ms":%d}' "$ms"
      ;;
    big)
      [[ $head =~ \"bytes\":([0-9]+) ]] || return 1
      printf '"'
      head -c "${BASH_REMATCH[1]}" /dev/zero | tr '\0' x
      printf '"'
      ;;
    length)
      # The event is exactly {"conform":"length","data":"..."}: the data is the rest.
      local size prefix='{"conform":"length","data":"'
      size=$(stat -c %s "$event")
      printf '{"length":%d}' $((size - ${#prefix} - 2))
      ;;
    *)
      echo "not a conform probe event" >&2
      return 1
      ;;
  esac
}
