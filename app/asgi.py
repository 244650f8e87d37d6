"""The Litestar application: routes, sessions, CSRF, auth, templates, static files."""

from __future__ import annotations

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app import access, bootstrap, db, instance, security, templating
from app import job_kinds  # noqa: F401 - registers every job kind, so enqueue knows them
from app.audit import AuditMiddleware
from app.auth import SESSION_COOKIE, AuthMiddleware, CSRFUnlessToken
from app.errors import EXCEPTION_HANDLERS
from app.headers import add_security_headers
from app.settings import ROOT, settings
from app.web import MAX_ID
# the controllers, a line per domain: only this module imports them
from app.system import api as system_api, routes as system_pages
from app.uploads import api as uploads_api, routes as uploads_pages
from app.accounts import api as accounts_api, routes as accounts_pages
from app.personal_tokens import api as tokens_api, routes as tokens_pages
from app.views import api as views_api, routes as views_pages
from app.admin import api as admin_api, routes as admin_pages
from app.projects import api as projects_api, routes as projects_pages
from app.tasks import api as tasks_api, routes as tasks_pages
from app.data_import import api as import_api, routes as import_pages
from app.data_export import api as export_api, routes as export_pages
from app.labelling import api as labelling_api, routes as labelling_pages
from app.ml import api as ml_api, routes as ml_pages
from app.learning import api as learning_api, routes as learning_pages
from app.learning.backend import api as model_backend_api
from app.review import api as review_api, routes as review_pages
from app.webhooks import api as webhooks_api, routes as webhooks_pages
from app.storages import api as storages_api, routes as storages_pages

CONTROLLERS = [accounts_api, accounts_pages, tokens_api, tokens_pages, projects_api, projects_pages,
               admin_api, admin_pages, system_api, system_pages,
               import_api, uploads_pages, tasks_api, tasks_pages, export_api, export_pages, import_pages,
               labelling_api, labelling_pages, ml_api, ml_pages, review_api, review_pages, views_api, views_pages]
CONTROLLERS += [webhooks_api, webhooks_pages]
CONTROLLERS += [uploads_api]
CONTROLLERS += [storages_api, storages_pages]
CONTROLLERS += [learning_api, learning_pages]
ROUTES = [handler for module in CONTROLLERS for handler in module.ROUTES]
# the browser keeps the cookie as long as the longest lifetime allowed; the server ends sessions earlier
SESSION_MAX_AGE = int(instance.FIELDS["session_hours"].high * 3600)


async def before_request(request: Request) -> None:
    # an id no row can have is simply not found (instead of an overflow in the database driver)
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFoundException("Not found")
    await instance.refresh()  # settings an admin changed reach every process within seconds


def create_app() -> Litestar:
    secret = settings.secret_key()
    session = CookieBackendConfig(
        secret=security.derive_key(secret, "session"), key=SESSION_COOKIE, httponly=True,
        samesite="lax", secure=settings.cookie_secure, max_age=SESSION_MAX_AGE,
    )
    csrf = CSRFConfig(secret=security.derive_key(secret, "csrf").hex(), cookie_secure=settings.cookie_secure,
                      cookie_samesite="lax")
    templates = TemplateConfig(instance=JinjaTemplateEngine.from_environment(templating.make_environment()))
    static = create_static_files_router(path="/static", directories=[ROOT / "static"], name="static")
    return Litestar(
        route_handlers=[*ROUTES, static],
        middleware=[
            session.middleware,
            DefineMiddleware(CSRFUnlessToken, config=csrf),
            DefineMiddleware(AuthMiddleware, exclude=["^/static/", "^/schema"]),
            AuditMiddleware,
        ],
        template_config=templates,
        plugins=[HTMXPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=before_request,
        dependencies=access.DEPENDENCIES,  # project, task, annotation, …: loaded and checked once
        signature_namespace=access.SIGNATURE_TYPES,
        before_send=[add_security_headers],  # outermost: every response, router 404s included
        on_startup=[bootstrap.on_startup],
        on_shutdown=[db.close_pool],
        openapi_config=OpenAPIConfig(title="Labelwell API", version=templating.version("labelwell"), path="/schema",
                                     # the schema only: the UI pages load scripts from CDNs (docs/api.md)
                                     render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()]),
    )


def model_server(project_id: int) -> Litestar:
    """`labelwell model serve`: the project's built-in model as a label_studio_ml backend, on its
    own port. It holds no session and shows no page, only the protocol's four routes."""
    return Litestar(route_handlers=model_backend_api.ROUTES, exception_handlers=EXCEPTION_HANDLERS,
                    on_startup=[db.open_pool], on_shutdown=[db.close_pool], state=State({"project": project_id}),
                    openapi_config=None)


app = create_app()
