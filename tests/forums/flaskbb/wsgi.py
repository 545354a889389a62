"""The WSGI entry point gunicorn serves: FlaskBB built from flaskbb.cfg beside this file."""

import os

from flaskbb import create_app

_here = os.path.dirname(os.path.abspath(__file__))
app = create_app(
    os.path.join(_here, "flaskbb.cfg"),
    instance_path=os.path.join(os.environ["FLASKBB_HOME"], "instance"),
)
