"""The compiled parts: ``xtract_service.crawl._fastlist``, the local repo's lister
(readdir + fstatat without the GIL), and ``xtract_service.crawl._records``, which renders
flushed file records as JSON. ``optional=True``: where no C compiler is found the
install goes on and the local repo lists with ``os.scandir`` and flushes render records
with orjson instead (same answers, slower; ``xtract serve`` logs which lister it has).
Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "xtract_service.crawl._fastlist",
            ["service/xtract_service/crawl/_fastlist.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
        Extension(
            "xtract_service.crawl._records",
            ["service/xtract_service/crawl/_records.c"],
            extra_compile_args=["-O2"],
            optional=True,
        ),
    ]
)
