import io

import pytest
from django.core.management import get_commands, load_command_class


@pytest.mark.parametrize("name", sorted(n for n, app in get_commands().items() if app.startswith("arenda")))
def test_every_project_command_explains_itself(name):
    command = load_command_class(get_commands()[name], name)
    out = io.StringIO()
    parser = command.create_parser("manage.py", name)
    parser.print_help(out)
    assert name in out.getvalue() and len(out.getvalue()) > 40
