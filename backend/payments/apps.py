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
        _audit_targets()


def _audit_targets() -> None:
    """Staff changes to credit entries and subscriptions belong to the account's trail."""
    from backend.audit.targets import audit_target_register
    from backend.payments.models import CreditEntry, Subscription

    def of_entry(pk: str) -> object:
        return CreditEntry.objects.filter(pk=pk).values_list("account_id", flat=True).first()

    def of_subscription(pk: str) -> object:
        return Subscription.objects.filter(pk=pk).values_list("account_id", flat=True).first()

    audit_target_register(model_label="payments.creditentry", account_of=of_entry)
    audit_target_register(model_label="payments.subscription", account_of=of_subscription)
