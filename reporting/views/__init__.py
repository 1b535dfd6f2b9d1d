"""The screens of reporting, one module per screen family (dashboard, meeting reports, plan versions, drafting, Excel, public page, audit trail …)."""
