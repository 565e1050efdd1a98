"""The Panel app: the only layer that imports Panel.

Panel's roles, one module each: :mod:`~mapping.app.data` (the build, loaded once per process
and shared read-only), :mod:`~mapping.app.state` (one session's choices as ``param``
parameters), :mod:`~mapping.app.store` (what is shown, derived from the state and the build),
:mod:`mapping.app.views` (one :class:`panel.viewable.Viewer` per part of the page, HTML from
the autoescaping templates in ``templates/``) and :mod:`~mapping.app.page` (the page: views,
tabs, address bar, usage counts). :mod:`~mapping.app.main` is the entry point of
``panel serve``; :mod:`~mapping.app.deploy` writes the reverse proxy's configuration.
"""
