from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "backend.payments"
    label = "payments"
    verbose_name = "Payments and credits"

    def ready(self) -> None:
        from backend.guard.instance import register_caller_hooks
        from backend.payments.guard_hooks import caller_profile, record_credit_draw

        # Accounts: the plan and credits as they are at each call, and the credits ledger.
        register_caller_hooks(profile_resolver=caller_profile, credits_hook=record_credit_draw)
