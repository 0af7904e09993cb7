from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from backend.accounts.identity import account_identity
        from backend.clients.authentication import register_resolver

        register_resolver(account_identity)
        _audit_targets()


def _audit_targets() -> None:
    """Staff changes to an account, its user or its keys belong to the account's trail."""
    from django.conf import settings

    from backend.accounts.models import Account
    from backend.audit.targets import audit_target_register

    def by_user(user_id: str) -> object:
        return Account.objects.filter(user_id=user_id).values_list("id", flat=True).first()

    def by_key(key_id: str) -> object:
        return (
            Account.objects.filter(user__api_keys__id=key_id).values_list("id", flat=True).first()
        )

    audit_target_register(model_label="accounts.account", account_of=lambda pk: pk)
    audit_target_register(model_label=settings.AUTH_USER_MODEL, account_of=by_user)
    audit_target_register(model_label="clients.apikey", account_of=by_key)
