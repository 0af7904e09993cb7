from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from backend.accounts.identity import account_identity
        from backend.clients.authentication import register_resolver

        register_resolver(account_identity)
