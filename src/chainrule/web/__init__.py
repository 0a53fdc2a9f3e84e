"""The browser playground: a Starlette app (:mod:`~chainrule.web.app`), its validated websocket
protocol (:mod:`~chainrule.web.protocol`) and one training session per tab
(:mod:`~chainrule.web.session`). Start it with ``chainrule playground``.

Importing this package imports nothing beyond the standard library; the app needs starlette
(``pip install chainrule[web]``).
"""
