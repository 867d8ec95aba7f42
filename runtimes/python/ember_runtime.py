"""ember's Python runtime client for the AWS Lambda Runtime API (2018-06-01).

The engine starts ``bootstrap.py`` as a worker process; this module does the
work: it imports the function's handler (reporting failures to
``/runtime/init/error``), then loops on ``/runtime/invocation/next``, calls
the handler and posts its result or error back.

Only the standard library is used, and only lightweight parts of it: the
time from interpreter start to the first ``next`` request is on the cold
start path of every invocation that needs a new worker.
"""

import _socket
import json
import os
import signal
import sys
import time

API_VERSION = "2018-06-01"
USER_AGENT = "ember-python/%d.%d.%d" % sys.version_info[:3]

# Error types, named as AWS Lambda's own Python runtime names them so that
# callers matching on them behave the same against ember.
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
MARSHAL_ERROR = "Runtime.MarshalError"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

# Value of Lambda-Runtime-Function-Error-Type on /invocation/{id}/error: what
# the Invoke API reports as FunctionError for any error a runtime reports.
INVOKE_ERROR_HEADER_VALUE = "Unhandled"

# Characters that may appear unescaped in a request id path segment.
_PATH_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)


def log(message):
    """Write a runtime message to the function's log.

    sys.__stderr__ rather than sys.stderr: user code may have replaced the
    latter, and these lines must reach the engine's pipe regardless.
    """
    stream = sys.__stderr__ or sys.stderr
    if not message.endswith("\n"):
        message += "\n"
    try:
        stream.write(message)
        stream.flush()
    except (OSError, ValueError):
        pass  # the log pipe is gone; nothing useful left to do with it


def flush_output():
    """Push everything the function printed into the log pipe.

    The engine writes END/REPORT lines as soon as it has the result, so the
    function's own output must already be in the pipe when it gets it.
    """
    seen = set()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is None or id(stream) in seen:
            continue
        seen.add(id(stream))
        try:
            stream.flush()
        except Exception:  # a user replacement stream may do anything
            pass


# --------------------------------------------------------------------------
# The function's log records (the `logging` module), as Lambda writes them
# --------------------------------------------------------------------------

# Lambda's advanced logging controls, read from the environment by setup_logging():
# AWS_LAMBDA_LOG_FORMAT=JSON makes every record (and the runtime's own error reports) a
# JSON object; otherwise records are text.
_log_json = False

# The invocation being served, stamped on every log record; "" during init. Like Lambda's,
# it stays set between invocations.
_request_id = ""
_tenant_id = None

# AWS_LAMBDA_LOG_LEVEL's values (Lambda's application log levels) as logging's levels.
# TRACE has no level of its own in `logging`: Lambda's Python runtime maps it to DEBUG.
_LOG_LEVELS = {
    "TRACE": 10,
    "DEBUG": 10,
    "INFO": 20,
    "WARN": 30,
    "WARNING": 30,
    "ERROR": 40,
    "FATAL": 50,
    "CRITICAL": 50,
}

# What a text record looks like: [LEVEL] <tab> UTC time with milliseconds <tab> request id
# <tab> message, as Lambda's Python runtime formats it.
_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _utc_iso_ms(seconds):
    return time.strftime(_TIME_FORMAT, time.gmtime(seconds)) + ".%03dZ" % (seconds % 1 * 1000)


def _one_line(text):
    """Keep a multi-line record one log line.

    The engine cuts the function's output into log lines at each "\\n". A record must stay
    one event, as on Lambda, where the runtime frames each record; on a plain pipe Lambda's
    runtimes write the record's inner line breaks as "\\r" (the Node.js runtime for every
    record, the Python runtime for its error reports), and so does this one.
    """
    return text.replace("\r\n", "\r").replace("\n", "\r")


def setup_logging():
    """Read the log format and level, and see that `logging` gets Lambda's root handler.

    Importing `logging` costs about 4 ms of interpreter start (re, traceback, threading,
    weakref, ...), more than everything else this runtime imports, and a function that never
    logs should not pay it. So unless something already imported it, the handler is installed
    right after the function's own first `import logging`, before any of its code can log.
    """
    global _log_json
    _log_json = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    level = _LOG_LEVELS.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper())
    logging = sys.modules.get("logging")
    if logging is not None:
        _install_log_handler(logging, level)
    else:
        sys.meta_path.insert(0, _LoggingImportHook(level))


class _LoggingImportHook:
    """A meta path finder that only acts on the first import of `logging`: it lets the usual
    finders find the module and loads it with a loader that installs the handler after it."""

    def __init__(self, level):
        self._level = level

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path, target) if find_spec is not None else None
            if spec is not None:
                break
        else:
            return None
        if hasattr(spec.loader, "exec_module"):
            spec.loader = _InstallingLoader(spec.loader, self._level)
        return spec


class _InstallingLoader:
    def __init__(self, loader, level):
        self._loader = loader
        self._level = level

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The module keeps its real loader, as if it had been loaded without this one
        # (linecache and importlib.reload look it up there).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        if hasattr(module, "Handler") and hasattr(module, "getLogger"):
            _install_log_handler(module, self._level)


def _install_log_handler(logging, level):
    """Give the root logger Lambda's handler: what the function's records look like."""
    logging.Formatter.converter = time.gmtime  # Lambda's log times are UTC, whatever TZ says

    class LambdaLogHandler(logging.Handler):
        """Writes each record to stdout as one log line."""

        def emit(self, record):
            try:
                text = self.format(record)
                sys.stdout.write(_one_line(text) + "\n")
            except Exception:
                self.handleError(record)

    class RequestIdFilter(logging.Filter):
        """Stamps the invocation's id on each record, for formats that show it
        (`%(aws_request_id)s`, as on Lambda)."""

        def filter(self, record):
            record.aws_request_id = _request_id
            record.tenant_id = _tenant_id
            return True

    handler = LambdaLogHandler()
    if _log_json:
        handler.setFormatter(_json_formatter(logging)())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT, _TIME_FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    if level is not None:
        root.setLevel(level)
    root.addHandler(handler)


def _json_formatter(logging):
    # The attributes every record has; any other one came from `extra=` and is logged too.
    standard = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
    standard.update(("message", "asctime", "aws_request_id", "tenant_id"))

    class JsonFormatter(logging.Formatter):
        """One JSON object per record, with the fields (and their order) of Lambda's."""

        def format(self, record):
            level = min(50, max(0, record.levelno)) // 10 * 10
            fields = {
                "timestamp": _utc_iso_ms(record.created),
                "level": logging.getLevelName(level),
                "message": record.getMessage(),
                "logger": record.name,
            }
            exc_info = record.exc_info
            if exc_info and exc_info[0] is not None:
                import traceback

                fields["stackTrace"] = traceback.format_tb(exc_info[2])
                fields["errorType"] = exc_info[0].__name__
                fields["errorMessage"] = str(exc_info[1])
            fields["requestId"] = getattr(record, "aws_request_id", None)
            if exc_info and exc_info[0] is not None:
                fields["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
            fields["tenantId"] = getattr(record, "tenant_id", None)
            for key, value in vars(record).items():
                if key not in standard and key not in fields:
                    fields[key] = value
            fields = {key: value for key, value in fields.items() if value is not None}
            # An `extra` value JSON cannot represent is written as its str(), rather than
            # losing the record.
            return json.dumps(fields, ensure_ascii=False, default=str)

    return JsonFormatter


# --------------------------------------------------------------------------
# Runtime API transport
# --------------------------------------------------------------------------


class RuntimeAPIError(Exception):
    """The Runtime API is unreachable or answered something unusable."""


class _ConnectionLost(Exception):
    """The server closed the connection before any response arrived."""


def _parse_address(address):
    """Split AWS_LAMBDA_RUNTIME_API ("host:port" or "[v6]:port")."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise RuntimeAPIError(f"malformed AWS_LAMBDA_RUNTIME_API {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class RuntimeAPIClient:
    """A small HTTP/1.1 client holding one keep-alive connection.

    http.client would be the obvious choice, but importing it drags in
    email, ssl and urllib (about 20 ms, more than everything else this
    runtime loads). The peer is the local engine, so a minimal client is
    enough: Content-Length or chunked bodies, keep-alive, and one reconnect
    when a reused connection turns out to have been closed.

    It uses _socket, the C module behind `socket`, directly: the methods
    needed here are the same, and the Python wrapper's imports (enum
    classes, selectors) cost about 2 ms of every cold start.
    """

    def __init__(self, address):
        self._address = address
        self._host, self._port = _parse_address(address)
        self._sock = None
        self._buffer = b""

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = b""

    def _connect(self):
        # Connecting to the literal address skips getaddrinfo and with it
        # any chance of a DNS lookup.
        family = _socket.AF_INET6 if ":" in self._host else _socket.AF_INET
        sock = _socket.socket(family, _socket.SOCK_STREAM)
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            sock.connect((self._host, self._port))
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._buffer = b""

    def request(self, method, path, body=None, headers=()):
        """Send one request; return (status, headers, body).

        Header names in the result are lower-case. No timeout is set: the
        engine holds /next open until there is an invocation to hand out.
        """
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self._address}",
            f"User-Agent: {USER_AGENT}",
        ]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        # Values can carry user-controlled text (an exception's class name),
        # so line breaks are dropped rather than trusted.
        lines.extend(
            f"{name}: {value}".replace("\r", "").replace("\n", "") for name, value in headers
        )
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        if body:
            data += body

        for attempt in range(2):
            fresh = self._sock is None
            try:
                if fresh:
                    self._connect()
                self._sock.sendall(data)
                return self._read_response(method)
            except (ConnectionError, _ConnectionLost) as exc:
                self.close()
                # A kept-alive connection the server has since closed is
                # normal; one retry on a new connection covers it. A fresh
                # connection failing means the engine is gone.
                if fresh or attempt:
                    reason = exc or "connection closed"
                    raise RuntimeAPIError(f"{method} {path}: {reason}") from None
            except OSError as exc:
                self.close()
                raise RuntimeAPIError(f"{method} {path}: {exc}") from None
        raise AssertionError("unreachable")

    def _read_response(self, method):
        try:
            status_line = self._read_line()
        except EOFError:
            raise _ConnectionLost() from None
        # Past this point the request was received: retrying could deliver a
        # result twice, so every failure is final.
        try:
            return self._read_rest(method, status_line)
        except (OSError, EOFError, ValueError) as exc:
            self.close()
            raise RuntimeAPIError(f"{method}: bad response from Runtime API: {exc!r}") from None

    def _read_rest(self, method, status_line):
        version, status, _ = (status_line.decode("latin-1").split(None, 2) + [""])[:3]
        status = int(status)
        headers = {}
        while True:
            line = self._read_line()
            if not line:
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode(
                "utf-8", "replace"
            )

        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        elif method == "HEAD" or status in (204, 304) or status < 200:
            body = b""
        else:
            body = self._read_to_eof()

        connection = headers.get("connection", "").lower()
        if "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection):
            self.close()
        return status, headers, body

    def _fill(self):
        chunk = self._sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by Runtime API")
        self._buffer += chunk

    def _read_line(self):
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line, self._buffer = self._buffer[:end], self._buffer[end + 1:]
                return line.rstrip(b"\r")
            if len(self._buffer) > 65536:
                raise ValueError("response header line too long")
            self._fill()

    def _read_exact(self, size):
        # Collect pieces and join once: events can be megabytes, and
        # growing one bytes object per recv would copy quadratically.
        parts = [self._buffer[:size]]
        self._buffer = self._buffer[size:]
        missing = size - len(parts[0])
        while missing > 0:
            chunk = self._sock.recv(min(missing, 1 << 20))
            if not chunk:
                raise EOFError("connection closed mid-body")
            parts.append(chunk)
            missing -= len(chunk)
        return b"".join(parts)

    def _read_chunked(self):
        parts = []
        while True:
            size = int(self._read_line().split(b";", 1)[0], 16)
            if size == 0:
                while self._read_line():  # trailers, up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self._read_exact(size))
            self._read_line()  # CRLF closing the chunk

    def _read_to_eof(self):
        parts = [self._buffer]
        while True:
            chunk = self._sock.recv(65536)
            if not chunk:
                break
            parts.append(chunk)
        self.close()
        return b"".join(parts)


# --------------------------------------------------------------------------
# Errors reported to the Runtime API
# --------------------------------------------------------------------------


class FaultError(Exception):
    """An error the runtime itself detected, reported with a Runtime.* type."""

    def __init__(self, error_type, message, stack_trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


def _error_body(error_type, message, stack_trace, request_id=""):
    # Same keys, in the same order, as AWS Lambda's Python runtime sends.
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def _error_from_exception(exc, request_id=""):
    """Describe an exception raised by user code as Lambda does."""
    # Imported here: only failing invocations pay for traceback's imports.
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the leading frames that belong to this runtime and to the import
    # machinery, so the trace starts in the function's own code.
    start = 0
    while start < len(frames) and _is_runtime_frame(frames[start].filename):
        start += 1
    return _error_body(
        type(exc).__name__, str(exc), traceback.format_list(frames[start:]), request_id
    )


def _is_runtime_frame(filename):
    return (
        filename == __file__
        or filename.startswith("<frozen importlib")
        or filename == getattr(sys.modules.get("importlib"), "__file__", None)
    )


def log_error(error):
    """Print an error report the way Lambda's Python runtime shows it in the log.

    Text format: the header line and the trace, as one log line (see _one_line). JSON format:
    one object, the report's fields after a timestamp and level, as Lambda writes it.
    """
    if _log_json:
        record = {"timestamp": _utc_iso_ms(time.time()), "level": "ERROR", **error}
        log(json.dumps(record, ensure_ascii=False))
        return
    header = "[ERROR]"
    if error["errorType"]:
        header += " " + error["errorType"]
        if error["errorMessage"]:
            header += ":"
    if error["errorMessage"]:
        header += " " + error["errorMessage"]
    lines = [header, "Traceback (most recent call last):"]
    for frame in error["stackTrace"]:
        lines.extend(frame.splitlines())
    log(_one_line("\n".join(lines)))


# --------------------------------------------------------------------------
# Handler loading
# --------------------------------------------------------------------------


def load_handler(spec):
    """Import the module named by _HANDLER and return its function.

    Raises FaultError for the failures Lambda reports with a Runtime.* type;
    any other exception raised while importing the module propagates and is
    reported under its own class name, as Lambda does.
    """
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{spec}': {exc}") from None
    if not module_name or not function_name:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{spec}'")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            BUILT_IN_MODULE_CONFLICT,
            f"Cannot use built-in module {module_name} as a handler module",
        )

    import importlib

    try:
        # Lambda accepts "dir/module.function" as well as dotted paths.
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError(
            IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {(exc.text or "").strip()}\n']
        raise FaultError(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None

    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


# --------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------


class _Record:
    """Attribute bag with a fixed set of fields, filled from a JSON object."""

    __slots__ = ()

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self):
        body = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"{type(self).__name__}([{body}])"


class CognitoIdentity(_Record):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")


class Client(_Record):
    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )


class ClientContext(_Record):
    __slots__ = ("custom", "env", "client")

    def __init__(self, fields):
        super().__init__(fields)
        if isinstance(self.client, dict):
            self.client = Client(self.client)


def _parse_json_header(value, what):
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise FaultError(CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {what} JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise FaultError(CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {what} JSON: not an object")
    return parsed


class LambdaContext:
    """The ``context`` argument passed to the handler."""

    def __init__(self, request_id, headers):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        # A string, as Lambda's Python runtime gives it (it reads the variable as is).
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        # The tenant of a function in tenant isolation mode; None otherwise.
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")

        client_context = headers.get("lambda-runtime-client-context")
        self.client_context = (
            ClientContext(_parse_json_header(client_context, "Client Context"))
            if client_context
            else None
        )
        # Lambda always supplies an identity object, with None fields when
        # the invocation did not come through Cognito.
        identity = headers.get("lambda-runtime-cognito-identity")
        fields = _parse_json_header(identity, "Cognito Identity") if identity else {}
        self.identity = CognitoIdentity(
            {
                "cognito_identity_id": fields.get("cognitoIdentityId"),
                "cognito_identity_pool_id": fields.get("cognitoIdentityPoolId"),
            }
        )

        try:
            self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", 0))
        except ValueError:
            self._deadline_ms = 0

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))

    def __repr__(self):
        fields = (
            "aws_request_id",
            "log_group_name",
            "log_stream_name",
            "function_name",
            "memory_limit_in_mb",
            "function_version",
            "invoked_function_arn",
            "client_context",
            "identity",
            "tenant_id",
        )
        body = ",".join(f"{name}={getattr(self, name)}" for name in fields)
        return f"LambdaContext([{body}])"


# --------------------------------------------------------------------------
# Invocation
# --------------------------------------------------------------------------


def _json_default(value):
    # boto3 hands out Decimal for DynamoDB numbers and Lambda's runtime
    # serialises them as numbers. Look the class up rather than importing
    # decimal, which only matters if user code already imported it.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal_result(result):
    """Encode a handler's return value; return (body bytes, content type)."""
    if isinstance(result, (bytes, bytearray)):
        return bytes(result), "application/unknown"
    try:
        return json.dumps(result, default=_json_default).encode("utf-8"), "application/json"
    except Exception as exc:
        raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None


def _quote_path_segment(text):
    return "".join(
        char if char in _PATH_SAFE else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in text
    )


def _post(client, path, body, headers, what):
    """POST to the Runtime API; return False if the runtime must stop."""
    status, _, reply = client.request("POST", path, body, headers)
    if 200 <= status < 300:
        return True
    detail = reply.decode("utf-8", "replace").strip()
    log(f"[ember-runtime] Runtime API rejected {what}: HTTP {status} {detail}")
    # The API defines 500 as a non-recoverable container error: exit. Other
    # refusals (400 bad body, 403 stale request id, 413 too large) concern
    # one invocation only, so the runtime goes on to the next one.
    return status != 500


def handle_invocation(client, handler, headers, body):
    """Run one invocation; return False if the runtime must stop."""
    request_id = headers.get("lambda-runtime-aws-request-id")
    if not request_id:
        log("[ember-runtime] /next response has no Lambda-Runtime-Aws-Request-Id; skipping it")
        return True

    # Lambda exposes the invocation's X-Ray header to SDKs through the
    # environment, and clears it when an invocation has none.
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    global _request_id, _tenant_id
    _request_id = request_id
    _tenant_id = headers.get("lambda-runtime-aws-tenant-id")

    error = None
    try:
        context = LambdaContext(request_id, headers)
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise FaultError(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None
        result = handler(event, context)
        payload, content_type = marshal_result(result)
    except FaultError as fault:
        error = _error_body(fault.error_type, fault.message, fault.stack_trace, request_id)
    except Exception as exc:
        error = _error_from_exception(exc, request_id)

    base = f"/{API_VERSION}/runtime/invocation/{_quote_path_segment(request_id)}"
    if error is None:
        flush_output()
        return _post(
            client,
            base + "/response",
            payload,
            [("Content-Type", content_type)],
            f"response for {request_id}",
        )

    log_error(error)
    flush_output()
    return _post(
        client,
        base + "/error",
        json.dumps(error).encode("utf-8"),
        [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Function-Error-Type", INVOKE_ERROR_HEADER_VALUE),
        ],
        f"error for {request_id}",
    )


def report_init_error(client, error):
    log_error(error)
    flush_output()
    _post(
        client,
        f"/{API_VERSION}/runtime/init/error",
        json.dumps(error).encode("utf-8"),
        [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Function-Error-Type", error["errorType"]),
        ],
        "init error",
    )


def _exit_on_sigterm(signum, frame):
    # SystemExit unwinds normally: finally blocks and atexit hooks run, and
    # the process ends with status 0 and no traceback. Installed before the
    # function's module is imported, so the function can replace it.
    sys.exit(0)


def prepare_process():
    """What the runtime sets up before it knows its function: the zygote's
    worker does this before its launch, off the cold-start path."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # This runtime's own directory (put on the path by the interpreter as the
    # script's directory) comes off it, so it cannot shadow or be shadowed by
    # user modules.
    runtime_dir = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry) != runtime_dir]


def main():
    """Run the runtime; return the process exit status."""
    prepare_process()
    return run()


def run():
    """Serve the function named by the environment; return the exit status."""
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        log("[ember-runtime] AWS_LAMBDA_RUNTIME_API is not set")
        return 1

    setup_logging()

    # The function's code comes first on the path.
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)

    try:
        client = RuntimeAPIClient(address)
        try:
            handler = load_handler(os.environ.get("_HANDLER", ""))
        except FaultError as fault:
            error = _error_body(fault.error_type, fault.message, fault.stack_trace)
            report_init_error(client, error)
            return 1
        except Exception as exc:
            report_init_error(client, _error_from_exception(exc))
            return 1

        next_path = f"/{API_VERSION}/runtime/invocation/next"
        while True:
            status, headers, body = client.request("GET", next_path)
            if status != 200:
                detail = body.decode("utf-8", "replace").strip()
                log(f"[ember-runtime] /next failed: HTTP {status} {detail}; exiting")
                return 1
            if not handle_invocation(client, handler, headers, body):
                return 1
    except RuntimeAPIError as exc:
        log(f"[ember-runtime] cannot reach the Runtime API: {exc}; exiting")
        return 1
