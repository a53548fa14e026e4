"""Fixtures for the whole suite; service fixtures live in tests/fixtures/."""

pytest_plugins: list[str] = [
    "tests.fixtures.zookeeper",
    "tests.fixtures.conformance",
    "tests.fixtures.postgres",
    "tests.fixtures.sshd",
]
