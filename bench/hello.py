"""The floor: a Litestar hello-world, served the same way (uvicorn) for a ratio in one run."""

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


app = Litestar([hello])
