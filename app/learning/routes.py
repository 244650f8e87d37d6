"""The Model page's built-in model form and Train button (the section itself is rendered with the
rest of the Model page, by app/ml/routes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, post
from litestar.plugins.flash import flash
from litestar.response import Redirect

from app.auth import require_admin, user_of
from app.errors import InputError
from app.learning import service

if TYPE_CHECKING:
    from app.tables import Project


def _back(project: Project, anchor: str = "builtin") -> Redirect:
    return Redirect(f"/projects/{project.id}/model#{anchor}")


@post("/projects/{project_id:int}/model/builtin", guards=[require_admin], opt={"audit": "ml.builtin"})
async def builtin_settings(request: Request, project: Project) -> Redirect:
    form = await request.form()
    try:
        row = await service.configure(project, {"enabled": "enabled" in form,
                                                "train_every": form.get("train_every", "")})
    except InputError as exc:
        flash(request, " ".join(m for messages in exc.errors.values() for m in messages), category="error")
        return _back(project)
    flash(request, f"Built-in model {'on' if row.enabled else 'off'}: it trains after every {row.train_every} "
                   "new or updated annotations.", category="success")
    return _back(project)


@post("/projects/{project_id:int}/model/builtin/train", guards=[require_admin], opt={"audit": "ml.builtin_train"})
async def builtin_train_now(request: Request, project: Project) -> Redirect:
    job = await service.start_training(project, user_of(request).id)
    flash(request, "Training the built-in model: the new version appears here when it is done.", category="success")
    return Redirect(f"/projects/{project.id}/model?job={job.id}#builtin")


ROUTES = [builtin_settings, builtin_train_now]
