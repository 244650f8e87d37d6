"""Label Studio's list pagination: ?page=&page_size= -> {count, next, previous, results}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from app.errors import InputError

if TYPE_CHECKING:
    from litestar import Request

MAX_PAGE_SIZE = 1000


def page_params(request: Request, default_size: int = 30) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("page_size", default_size))
    except ValueError:
        raise InputError({"page": ["page and page_size must be whole numbers."]}) from None
    if page < 1 or size < 1:
        raise InputError({"page": ["page and page_size start at 1."]})
    if (page - 1) * min(size, MAX_PAGE_SIZE) > 2**31:
        raise InputError({"page": ["There is no page that far."]})
    return page, min(size, MAX_PAGE_SIZE)


def paginated(request: Request, results: list[Any], count: int, page: int, size: int) -> dict[str, Any]:
    def link(number: int) -> str:
        query = {**request.query_params.dict(), "page": [str(number)], "page_size": [str(size)]}
        return str(request.url.with_replacements(query=urlencode(query, doseq=True)))

    return {
        "count": count,
        "next": link(page + 1) if page * size < count else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": results,
    }
