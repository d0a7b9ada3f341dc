"""Reporting after the grant (docs/reporting.md): the project a grant starts, the documents it
owes the funder – a revised budget, reports and payment claims, each an application row of
its own kind driven by its own workflow and form file – and the money they account for."""
