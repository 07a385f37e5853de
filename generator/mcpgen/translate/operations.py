"""Operations → tools: arguments, request body, schemas, annotations, security."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import McpgenError, Report, join_pointer
from ..ir import Annotations, Body, BodyEncoding, JsonSchema, Param, Sample, Tool
from ..naming import NameAllocator, operation_words, py_identifier, snake
from ..runtime.encoding import encode_path
from .metaschema import SchemaChecker
from .outline import drop_titles, outline
from .portable import portable
from .samples import sample
from .schemas import SchemaConverter, SchemaSession, accepts_nothing, python_type

__all__ = ["METHODS", "Operation", "ToolContext", "iter_operations", "make_tool"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_RESERVED_PY_NAMES = frozenset({"upstream"})  # the handler's first parameter
# A body schema with these is passed whole: as separate arguments it would lose their meaning.
_NOT_FLATTENED = frozenset(
    {
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "unevaluatedProperties",
    }
)


@dataclass(frozen=True)
class Operation:
    method: str  # lower case
    path: str
    node: dict[str, Any]
    path_item: dict[str, Any]
    pointer: str

    @property
    def operation_id(self) -> str | None:
        value = self.node.get("operationId")
        return value if isinstance(value, str) and value.strip() else None

    def wanted_name(self) -> str:
        if self.operation_id:
            name = snake(self.operation_id)
            if name:
                return name
        return "_".join(operation_words(self.method, self.path))


def iter_operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation in document order (paths as written, methods in OpenAPI order)."""
    found: list[Operation] = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict) or not str(path).startswith("/"):
            continue
        for method in METHODS:
            node = item.get(method)
            if isinstance(node, dict):
                pointer = join_pointer("/paths", path, method)
                found.append(Operation(method, path, node, item, pointer))
    return found


def annotations_for(method: str) -> Annotations:
    method = method.lower()
    if method in ("get", "head", "options", "trace"):
        return Annotations(read_only=True, destructive=False, idempotent=True)
    if method == "delete":
        return Annotations(read_only=False, destructive=True, idempotent=True)
    if method == "put":
        return Annotations(read_only=False, destructive=False, idempotent=True)
    return Annotations(read_only=False, destructive=False, idempotent=False)


class _ToolBuilder:
    def __init__(
        self,
        op: Operation,
        converter: SchemaConverter,
        report: Report,
        file: str,
        supplied: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.op = op
        self.supplied = supplied  # (in, lower-case name) of parameters security schemes fill
        self.converter = converter
        self.report = report
        self.file = file
        self.inputs = converter.session("input")
        self.properties: dict[str, JsonSchema | bool] = {}
        self.required: list[str] = []
        self.params: list[Param] = []
        self.py_names = NameAllocator("parameter", report, file, limit=200)
        self.py_names.reserve(_RESERVED_PY_NAMES)

    # -- parameters ---------------------------------------------------------------------
    def parameters(self) -> list[tuple[dict[str, Any], str]]:
        """Path-item and operation parameters, the operation's winning on (in, name); not
        those OpenAPI ignores or a security scheme fills."""
        merged = self._merged()
        return [
            entry
            for (location, name), entry in merged.items()
            if not (location == "header" and name.lower() in _IGNORED_HEADERS)
            and (location, name.lower()) not in self.supplied
        ]

    def _merged(self) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        merged: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        sources = (
            (self.op.path_item, join_pointer("/paths", self.op.path, "parameters")),
            (self.op.node, join_pointer(self.op.pointer, "parameters")),
        )
        for owner, base in sources:
            for index, raw in enumerate(owner.get("parameters") or []):
                node, pointer = self.inputs.resolve(raw)
                if not (isinstance(raw, dict) and "$ref" in raw):
                    pointer = f"{base}/{index}"
                if not isinstance(node, dict) or "name" not in node or "in" not in node:
                    raise McpgenError.single(
                        "invalid",
                        "a parameter needs `name` and `in`",
                        file=self.file,
                        pointer=pointer,
                    )
                merged[(str(node["in"]), str(node["name"]))] = (node, pointer)
        return merged

    def add_parameters(self, body_names: set[str]) -> None:
        """Parameters become arguments; a name used twice (also by a flattened body property)
        gets its location as a suffix: `id__path`, `id__query`. Parameters that the
        operation's security schemes fill are not arguments: a caller's value must never stand
        in for the credential."""
        for (location, name), (_, pointer) in self._merged().items():
            if (location, name.lower()) in self.supplied:
                self.report.warn(
                    "param-from-security",
                    f"{location} parameter '{name}' is filled by a security scheme: not an "
                    "argument (the server sends the configured credential)",
                    file=self.file,
                    pointer=pointer,
                )
        entries = self.parameters()
        names = [str(node["name"]) for node, _ in entries] + sorted(body_names)
        for node, pointer in entries:
            wire = str(node["name"])
            location = str(node["in"])
            arg = wire if names.count(wire) == 1 else f"{wire}__{location}"
            schema = self._param_schema(node, pointer)
            required = bool(node.get("required")) or location == "path"
            if accepts_nothing(schema) and not self._never_sent(arg, required, pointer):
                continue
            style, explode = _style(node, location)
            self._add(arg, wire, location, schema, required, style=style, explode=explode)

    def _param_schema(self, node: dict[str, Any], pointer: str) -> JsonSchema:
        if "schema" in node:
            schema = self.inputs.convert(node["schema"], join_pointer(pointer, "schema"))
        elif isinstance(node.get("content"), dict) and node["content"]:
            media = next(iter(sorted(node["content"])))
            inner = node["content"][media].get("schema", {})
            schema = self.inputs.convert(inner, join_pointer(pointer, "content", media, "schema"))
        else:
            schema = {"type": "string"}
        description = str(node.get("description") or "").strip()
        if description and "description" not in schema:
            schema = {"description": description, **schema}
        if node.get("deprecated") and "deprecated" not in schema:
            schema = {**schema, "deprecated": True}
        return schema

    def _never_sent(self, arg: str, required: bool, pointer: str) -> bool:
        """For an argument whose schema accepts no value: an optional one is left out (the
        tool's `additionalProperties: false` refuses it), a required one is kept, so that
        every call is refused as the spec says, with a warning."""
        if required:
            self.report.warn(
                "schema-false",
                f"required argument '{arg}' accepts no value (its schema is false): "
                "every call of this tool is refused",
                file=self.file,
                pointer=pointer,
            )
        return required

    def _add(
        self,
        arg: str,
        wire: str,
        location: str,
        schema: JsonSchema | bool,
        required: bool,
        *,
        style: str = "form",
        explode: bool = True,
    ) -> None:
        py_name = self.py_names.allocate(py_identifier(arg), where=self.op.pointer)
        self.properties[arg] = schema
        if required:
            self.required.append(arg)
        defs = self.inputs.defs()
        py_type = python_type(schema, defs)
        self.params.append(
            Param(
                arg=arg,
                py_name=py_name,
                py_type=py_type,
                wire=wire,
                location=location,
                required=required,
                style=style,
                explode=explode,
                file=(
                    location == "body"
                    and isinstance(schema, dict)
                    and schema.get("contentEncoding") == "base64"
                ),
            )
        )

    # -- request body -------------------------------------------------------------------
    def body(self) -> tuple[Body | None, JsonSchema | None, str]:
        raw = self.op.node.get("requestBody")
        if raw is None:
            return None, None, ""
        node, pointer = self.inputs.resolve(raw)
        if "$ref" not in raw:
            pointer = join_pointer(self.op.pointer, "requestBody")
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict) or not content:
            return None, None, ""
        choice = _choose_media(content)
        if choice is None:
            self.report.warn(
                "body-unsupported",
                f"request body media types {sorted(content)} are not supported; "
                "the tool sends no body",
                file=self.file,
                pointer=join_pointer(pointer, "content"),
            )
            return None, None, ""
        media, encoding = choice
        schema_node = (content[media] or {}).get("schema", {})
        schema = self.inputs.convert(schema_node, join_pointer(pointer, "content", media, "schema"))
        required = bool(node.get("required"))
        body = Body(media_type=media, encoding=encoding, flattened=False, required=required)
        return body, schema, str(node.get("description") or "").strip()

    def body_names(self, body: Body | None, schema: JsonSchema | None) -> set[str]:
        """The arguments a body would be flattened into (none if it cannot be)."""
        target = self._object_target(schema) if schema is not None else None
        if body is None or target is None:
            return set()
        needed = _needed(body, target)
        properties = target.get("properties") or {}
        return {n for n, p in properties.items() if n in needed or not accepts_nothing(p)}

    def add_body(self, body: Body, schema: JsonSchema, description: str) -> Body:
        target = self._object_target(schema)
        param_names = {str(node["name"]) for node, _ in self.parameters()}
        if target is not None and target.get("properties"):
            needed = _needed(body, target)
            pointer = join_pointer(self.op.pointer, "requestBody")
            for name, prop in target["properties"].items():
                arg = f"{name}__body" if name in param_names else name
                if accepts_nothing(prop) and not self._never_sent(arg, name in needed, pointer):
                    continue
                self._add(arg, name, "body", prop, name in needed)
            return body.model_copy(update={"flattened": True})
        arg = "body" if "body" not in param_names else "request_body"
        if description and "description" not in schema:
            schema = {"description": description, **schema}
        py_name = self.py_names.allocate(py_identifier(arg), where=self.op.pointer)
        self.properties[arg] = schema
        if body.required:
            self.required.append(arg)
        py_type = python_type(schema, self.inputs.defs())
        return body.model_copy(update={"arg": arg, "py_name": py_name, "py_type": py_type})

    def _object_target(self, schema: JsonSchema) -> JsonSchema | None:
        """The object schema whose properties can become arguments (following one $defs ref)."""
        if isinstance(schema.get("$ref"), str) and len(schema) == 1:
            name = schema["$ref"].rsplit("/", 1)[-1]
            target = self.inputs.defs().get(name)
            schema = target if isinstance(target, dict) else {}
        is_object = schema.get("type") == "object" or (
            "properties" in schema and "type" not in schema
        )
        combinators = _NOT_FLATTENED & set(schema)
        if not is_object or combinators:
            return None
        return schema

    # -- the whole tool -----------------------------------------------------------------
    def input_schema(self) -> JsonSchema:
        properties = {name: drop_titles(sub) for name, sub in self.properties.items()}
        schema: JsonSchema = {"type": "object", "properties": properties}
        if self.required:
            schema["required"] = sorted(set(self.required), key=self.required.index)
        schema["additionalProperties"] = False
        defs = self.inputs.defs()
        if defs:
            schema["$defs"] = {name: drop_titles(sub) for name, sub in defs.items()}
        return schema


def _needed(body: Body, target: JsonSchema) -> set[str]:
    """The body properties that must be sent."""
    return set(target.get("required") or []) if body.required else set()


def _style(node: dict[str, Any], location: str) -> tuple[str, bool]:
    default = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
    style = str(node.get("style") or default.get(location, "form"))
    explode = node.get("explode")
    if not isinstance(explode, bool):
        explode = style == "form"
    return style, explode


def _choose_media(content: dict[str, Any]) -> tuple[str, BodyEncoding] | None:
    for media in sorted(content):
        base = media.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return media, "json"
    for media in sorted(content):
        base = media.split(";")[0].strip().lower()
        if base == "application/x-www-form-urlencoded":
            return media, "form"
        if base == "multipart/form-data":
            return media, "multipart"
    return None


def _success_json(op: Operation, converter: SchemaConverter) -> tuple[Any, str] | None:
    responses = op.node.get("responses") or {}
    codes = sorted(str(c) for c in responses if str(c).startswith("2"))
    session = converter.session("output")
    for code in codes:
        node, _ = session.resolve(responses[code] if code in responses else responses[int(code)])
        if not isinstance(node, dict):
            continue
        content = node.get("content") or {}
        for media in sorted(content):
            base = media.split(";")[0].strip().lower()
            if (base == "application/json" or base.endswith("+json")) and isinstance(
                content[media], dict
            ):
                where = join_pointer(op.pointer, "responses", code, "content", media, "schema")
                return content[media].get("schema", {}), where
    return None


def output_schema(op: Operation, converter: SchemaConverter) -> tuple[JsonSchema | None, bool]:
    """The tool's output schema (always an object at the root) and whether replies are wrapped."""
    found = _success_json(op, converter)
    if found is None:
        return None, False
    node, pointer = found
    session = converter.session("output")
    schema, defs = outline(session.convert(node, pointer), session.defs())
    root = _object_root(schema, defs)
    if root is not None:
        result = dict(root)
        wrapped = False
    else:
        result = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
        wrapped = True
    if defs:
        result["$defs"] = defs
    return result, wrapped


def _object_root(schema: JsonSchema, defs: dict[str, Any]) -> JsonSchema | None:
    if isinstance(schema.get("$ref"), str) and len(schema) == 1:
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1])
        schema = target if isinstance(target, dict) else {}
    if schema.get("type") == "object" and not {"anyOf", "oneOf", "not", "if"} & set(schema):
        return schema
    return None


def _requirements(op: Operation, document: dict[str, Any]) -> list[dict[str, Any]]:
    raw = op.node.get("security", document.get("security") or [])
    return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []


def _security(op: Operation, document: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(sorted(r)) for r in _requirements(op, document))


def _listed(value: Any) -> set[str]:
    return {s for s in value if isinstance(s, str) and s} if isinstance(value, list) else set()


def spec_scopes(op: Operation, document: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Scheme key → every scope the operation's security requirements list for it."""
    found: dict[str, set[str]] = {}
    for requirement in _requirements(op, document):
        for key, scopes in requirement.items():
            found.setdefault(key, set()).update(_listed(scopes))
    return {k: tuple(sorted(v)) for k, v in sorted(found.items()) if v}


def tool_scopes(op: Operation, document: dict[str, Any]) -> tuple[str, ...]:
    """The scopes a caller needs by default: those of the first security alternative that
    lists any (the alternative the server itself would most likely use)."""
    for requirement in _requirements(op, document):
        scopes = set().union(*(_listed(v) for v in requirement.values()))
        if scopes:
            return tuple(sorted(scopes))
    return ()


def _supplied(op: Operation, document: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """(in, lower-case name) of the parameters that the operation's security schemes fill
    (API keys; bearer and basic fill `Authorization`, which OpenAPI ignores as a parameter)."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    found: set[tuple[str, str]] = set()
    for alternative in _security(op, document):
        for key in alternative:
            node = schemes.get(key)
            if isinstance(node, dict) and node.get("type") == "apiKey":
                where, name = node.get("in"), node.get("name")
                if isinstance(where, str) and isinstance(name, str):
                    found.add((where, name.lower()))
    return frozenset(found)


def _texts(op: Operation) -> tuple[str, str]:
    summary = str(op.node.get("summary") or "").strip()
    details = str(op.node.get("description") or "").strip()
    title = summary or op.wanted_name().replace("_", " ").capitalize()
    parts = [p for p in (summary, details) if p]
    if summary and details.startswith(summary):
        parts = [details]
    description = "\n\n".join(parts) or f"{op.method.upper()} {op.path}"
    if op.node.get("deprecated"):
        description = "Deprecated. " + description
    return title, description


@dataclass
class ToolContext:
    """What every tool of one document is built with."""

    document: dict[str, Any]
    converter: SchemaConverter
    report: Report
    file: str
    checker: SchemaChecker = field(default_factory=SchemaChecker)


def _tags(op: Operation) -> tuple[str, ...]:
    tags = op.node.get("tags")
    return tuple(str(t) for t in tags if str(t).strip()) if isinstance(tags, list) else ()


def make_tool(op: Operation, name: str, ctx: ToolContext) -> Tool:
    document, converter, report, file, checker = (
        ctx.document,
        ctx.converter,
        ctx.report,
        ctx.file,
        ctx.checker,
    )
    builder = _ToolBuilder(op, converter, report, file, _supplied(op, document))
    body, body_schema, body_description = builder.body()
    builder.add_parameters(builder.body_names(body, body_schema))
    if body is not None and body_schema is not None:
        body = builder.add_body(body, body_schema, body_description)
    inputs = portable(builder.input_schema())
    outputs, wrapped = output_schema(op, converter)
    outputs = portable(outputs) if outputs is not None else None
    checker.check(inputs)
    if outputs is not None:
        checker.check(outputs)
    title, description = _texts(op)
    module = py_identifier(name, fallback="tool")
    case = _sample(op, builder.params, inputs, outputs, wrapped)
    return Tool(
        name=name,
        module=module,
        function=module,
        title=title,
        description=description,
        method=op.method.upper(),
        path=op.path,
        operation_id=op.operation_id,
        source_pointer=op.pointer,
        params=tuple(builder.params),
        body=body,
        input_schema=inputs,
        output_schema=outputs,
        output_wrapped=wrapped,
        annotations=annotations_for(op.method),
        security=_security(op, document),
        spec_scopes=spec_scopes(op, document),
        scopes=tool_scopes(op, document),
        sample=case,
        tags=_tags(op),
    )


def _sample(
    op: Operation,
    params: list[Param],
    inputs: JsonSchema,
    outputs: JsonSchema | None,
    wrapped: bool,
) -> Sample | None:
    arguments = sample(inputs, inputs.get("$defs") or {})
    if not isinstance(arguments, dict):
        return None
    values: dict[str, Any] = {}
    for param in params:
        if param.location == "path":
            value = arguments.get(param.arg)
            if not isinstance(value, str | int) or isinstance(value, bool):
                return None
            values[param.wire] = value
    path = encode_path(op.path, values)  # the runtime's own encoding: what the upstream sees
    if outputs is None:
        return Sample(arguments=arguments, path=path, status=204, reply=None)
    reply = sample(outputs, outputs.get("$defs") or {})
    if reply is None:
        return None
    if wrapped:
        reply = reply.get("result") if isinstance(reply, dict) else None
    return Sample(arguments=arguments, path=path, status=200, reply=reply)


__all__ += ["SchemaSession", "annotations_for", "output_schema"]
