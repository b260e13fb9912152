"""Export and import of interaction groups and templates (with languages and attachments) as JSON."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.core import attachments, templates
from rapport.core.templates import (
    InteractionGroup,
    InteractionGroupCreate,
    InteractionGroupUpdate,
    InteractionTemplate,
    InteractionTemplateCreate,
    InteractionTemplateUpdate,
    TemplateLanguageCreate,
    TemplateLanguageUpdate,
)
from rapport.errors import Invalid

FORMAT = "rapport-interaction-templates/1"
_TEMPLATE_FIELDS = [f for f in InteractionTemplateCreate.model_fields if f != "code"]


def export_templates(session: Session) -> dict[str, Any]:
    """Every interaction group and template with its languages and attachments."""
    groups = [
        {"code": g.code, "description": g.description}
        for g in session.scalars(select(InteractionGroup).order_by(InteractionGroup.code))
    ]
    result: list[dict[str, Any]] = []
    for t in session.scalars(select(InteractionTemplate).order_by(InteractionTemplate.code)):
        item: dict[str, Any] = {"code": t.code, **{f: _plain(getattr(t, f)) for f in _TEMPLATE_FIELDS}}
        item["languages"] = []
        for row in templates.template_languages(session, t.code):
            language: dict[str, Any] = {
                "language_code": row.language_code,
                "description": row.description,
                "subject": row.subject,
                "attachment": None,
            }
            if row.attachment_no is not None:
                a = attachments.get_attachment(session, row.attachment_no)
                language["attachment"] = {
                    "file_name": a.file_name,
                    "media_type": a.media_type,
                    "content_base64": base64.b64encode(attachments.read_content(session, a.no)).decode(),
                }
            item["languages"].append(language)
        result.append(item)
    return {"format": FORMAT, "interaction_groups": groups, "interaction_templates": result}


def _plain(value: Any) -> Any:
    return float(value) if hasattr(value, "as_tuple") else value


def _schema(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise Invalid(f"{where}: {field}: {first['msg']}", field=field) from exc


def import_templates(session: Session, data: dict[str, Any]) -> tuple[int, int]:
    """Create or update the groups and templates of an export; returns (groups, templates)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Invalid(f"This is not a Rapport template export (expected format {FORMAT}).", field="format")
    for g in data.get("interaction_groups", []):
        group = _schema(InteractionGroupCreate, g, f"group {g.get('code')}")
        if session.get(InteractionGroup, group.code) is None:
            templates.create_group(session, group)
        else:
            templates.update_group(session, group.code, InteractionGroupUpdate(description=group.description))
    items = data.get("interaction_templates", [])
    for raw in items:
        where = f"template {raw.get('code')}"
        fields = {k: v for k, v in raw.items() if k != "languages"}
        language_default = fields.pop("language_code_default", "")
        wizard_action = fields.pop("wizard_action", "")
        created = _schema(InteractionTemplateCreate, fields, where)
        if session.get(InteractionTemplate, created.code) is None:
            templates.create_template(session, created)
        else:
            changes = created.model_dump(exclude={"code"})
            templates.update_template(session, created.code, InteractionTemplateUpdate(**changes))
        for lang in raw.get("languages", []):
            row = _schema(TemplateLanguageCreate, {k: v for k, v in lang.items() if k != "attachment"}, where)
            if templates.template_language(session, created.code, row.language_code) is None:
                templates.create_template_language(session, created.code, row)
            else:
                update = TemplateLanguageUpdate(description=row.description, subject=row.subject)
                templates.update_template_language(session, created.code, row.language_code, update)
            file = lang.get("attachment")
            if file:
                try:
                    content = base64.b64decode(file["content_base64"], validate=True)
                except (KeyError, ValueError) as exc:
                    raise Invalid(f"{where}: the attachment content is not base64.", field="attachment") from exc
                templates.set_language_attachment(
                    session, created.code, row.language_code, file["file_name"], file.get("media_type", ""), content
                )
        templates.update_template(
            session,
            created.code,
            _schema(
                InteractionTemplateUpdate,
                {"language_code_default": language_default, "wizard_action": wizard_action},
                where,
            ),
        )
    return len(data.get("interaction_groups", [])), len(items)
