"""The Litestar application: routes, sessions, CSRF, auth, templates, static files."""

from __future__ import annotations

from litestar import Litestar, Request
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

from app import bootstrap, db, instance, security, templating
from app.accounts import api as accounts_api
from app.accounts import routes as accounts_pages
from app.admin import routes as admin_pages
from app.admin import audit_log as admin_audit
from app.admin import instance_settings as admin_instance
from app.admin import members as admin_members
from app.admin import system as admin_system
from app.audit import AuditMiddleware
from app.auth import SESSION_COOKIE, AuthMiddleware, CSRFUnlessToken
from app.errors import EXCEPTION_HANDLERS
from app import uploads
from app.headers import add_security_headers
from app.data_export import api as export_api
from app.data_import import api as import_api
from app.data_import import routes as import_pages
from app.labelling import api as labelling_api
from app.labelling import routes as labelling_pages
from app.ml import api as ml_api
from app.ml import routes as ml_pages
from app.review import api as review_api
from app.review import routes as review_pages
from app.projects import api as projects_api
from app.tasks import api as tasks_api
from app.tasks import routes as tasks_pages
from app.projects import editor as projects_editor
from app.projects import routes as projects_pages
from app.settings import ROOT, settings
from app.system import ROUTES as SYSTEM_ROUTES

ROUTES = [*SYSTEM_ROUTES, *accounts_api.ROUTES, *accounts_pages.ROUTES, *projects_api.ROUTES,
          *projects_pages.ROUTES, *projects_editor.ROUTES, *admin_pages.ROUTES, *admin_members.ROUTES,
          *admin_instance.ROUTES, *admin_audit.ROUTES, *admin_system.ROUTES, *import_api.ROUTES,
          *uploads.ROUTES, *tasks_api.ROUTES, *tasks_pages.ROUTES,
          *export_api.ROUTES, *import_pages.ROUTES, *labelling_api.ROUTES, *labelling_pages.ROUTES,
          *ml_api.ROUTES, *ml_pages.ROUTES, *review_api.ROUTES, *review_pages.ROUTES]
# the browser keeps the cookie as long as the longest lifetime allowed; the server ends sessions earlier
SESSION_MAX_AGE = int(instance.FIELDS["session_hours"].high * 3600)


MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite overflows at 2**63


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
        before_send=[add_security_headers],  # outermost: every response, router 404s included
        on_startup=[bootstrap.on_startup],
        on_shutdown=[db.close_pool],
        openapi_config=OpenAPIConfig(title="Labelwell API", version=templating.version("labelwell"), path="/schema",
                                     # the schema only: the UI pages load scripts from CDNs (docs/api.md)
                                     render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()]),
    )


app = create_app()
