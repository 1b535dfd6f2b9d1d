from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    """The top layer: screens and exchanges that read across plans, workgroups and initiatives.

    Dashboard, meeting reports, the table 4-1 screen, the public page and open data, Excel
    exchange, plan loading, comparison and carry-over. Nothing below imports from here.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = _("進捗管理・報告")
