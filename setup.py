"""The compiled collector scanners (infra/collectors/_scan.pyx, decision 0041).

Optional: where they cannot be compiled the install still succeeds, and the collectors use
their numpy and bytes readers (`infra.collectors.scan.COMPILED` says which)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("infra.collectors._scan", ["infra/collectors/_scan.pyx"], optional=True)],
        quiet=True,
    )
)
