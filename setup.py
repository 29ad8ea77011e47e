"""The one packaging rule pyproject.toml cannot state next to package discovery.

``templates/`` stays at the top of the repository, where users look for the abstract
template to copy it, yet a wheel must carry it or a normal (non-editable) install cannot
render the default abstract. It is therefore shipped as the package
``reportgen.templates``; everything else is configured in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["reportgen", "reportgen.*", "experiments", "experiments.*"]),
              "reportgen.templates"],
    package_dir={"reportgen.templates": "templates"},
)
