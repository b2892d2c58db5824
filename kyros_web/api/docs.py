"""The API's reference page at /api/docs (issue 18, item 6): the OpenAPI document rendered by
Kyros itself, on the server, with no script and nothing from another site."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app
from markupsafe import Markup, escape

from ..htmx import render
from ..problems import KINDS

bp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    anchor: str
    parameters: list[Field] = field(default_factory=list)
    body: str | None = None
    responses: list[tuple[str, str, str | None]] = field(default_factory=list)


def _ref_name(schema: dict | None) -> str | None:
    if not schema:
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array" and "items" in schema:
        inner = _ref_name(schema["items"])
        return f"list of {inner}" if inner else "list"
    return schema.get("type") if isinstance(schema.get("type"), str) else None


def type_of(schema: dict) -> str:
    """A schema's type in a few words: `string (date)`, `list of Gate`, `Season`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " or ".join(k for k in kind)
    if kind == "array":
        return "list of " + type_of(schema.get("items", {}))
    if "allOf" in schema:
        return " and ".join(type_of(s) for s in schema["allOf"])
    text = kind or "any"
    if schema.get("format"):
        text += f" ({schema['format']})"
    if schema.get("enum"):
        text += ": " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    return text


def operations(spec: dict) -> dict[str, list[Operation]]:
    """The document's operations by tag, in its order."""
    groups: dict[str, list[Operation]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            entry = Operation(method.upper(), path, op.get("summary") or op.get("description", ""),
                              anchor=f"{method}-{path}".replace("/", "-").replace("{", "")
                              .replace("}", "").strip("-"))
            for p in shared + op.get("parameters", []):
                entry.parameters.append(Field(p["name"], f"{p['in']}: {type_of(p.get('schema', {}))}",
                                              p.get("required", False),
                                              p.get("description", "")))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            entry.body = _ref_name(body.get("schema"))
            for code, response in op.get("responses", {}).items():
                if "$ref" in response:
                    # A shared error answer: its phrase, and the problem details it holds.
                    common = spec.get("components", {}).get("responses", {}).get(
                        response["$ref"].rsplit("/", 1)[-1], {})
                    entry.responses.append((code, common.get("description", ""),
                                            "Problem" if common.get("content") else None))
                    continue
                content = response.get("content", {})
                schema = next(iter(content.values()), {}).get("schema") if content else None
                entry.responses.append((code, response.get("description", ""),
                                        _ref_name(schema)))
            for tag in op.get("tags", ["Other"]):
                groups.setdefault(tag, []).append(entry)
    return {tag: ops for tag, ops in groups.items() if ops}


def schemas(spec: dict) -> dict[str, list[Field]]:
    found = {}
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        found[name] = [Field(prop, type_of(s), prop in required,
                             s.get("description", "") + (" (read only)" if s.get("readOnly")
                                                          else ""))
                       for prop, s in schema.get("properties", {}).items()]
    return found


def code_spans(text: str) -> Markup:
    """A summary's `backquoted` words as code, everything else escaped."""
    parts = escape(text or "").split("`")
    return Markup("".join(f"<code>{part}</code>" if i % 2 else part
                          for i, part in enumerate(parts)))


@bp.get("/api/docs")
def docs():
    """The API reference, from the document /api/v1/openapi.json serves."""
    spec = current_app.extensions["kyros_api"].spec.to_dict()
    return render("api/docs.html", spec=spec, code_spans=code_spans, groups=operations(spec), schemas=schemas(spec),
                  problems=list(KINDS.values()))
