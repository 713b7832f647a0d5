"""The one compiled part: ``xtract_service.crawl._fastlist``, the local repo's lister
(readdir + fstatat without the GIL). ``optional=True``: where no C compiler is found the
install goes on and the local repo lists with ``os.scandir`` instead (same answers,
slower; ``xtract serve`` logs which lister it has). Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "xtract_service.crawl._fastlist",
            ["service/xtract_service/crawl/_fastlist.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
