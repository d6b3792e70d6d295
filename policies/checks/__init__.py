"""kakehashi's own policy checks, one per file: ``CKV_KKH_###_<what>.py``.

checkov loads every module here (``--external-checks-dir policies/checks``; the folder needs
this ``__init__.py``). Per-resource checks subclass checkov's ``BaseResourceCheck`` /
``BaseDataCheck``; checks that need more than one resource (or every stack at once) subclass
:class:`policies.document.DocumentCheck` and are run by ``policies/scan.py``.
"""
