from celery import shared_task

from backend.accounts.services import auth, email_links


@shared_task(
    name="backend.accounts.tasks.send_email",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_email(to: str, subject: str, body: str) -> None:
    email_links.email_send_now(to=to, subject=subject, body=body)


@shared_task(name="backend.accounts.tasks.prune_expired_tokens", ignore_result=True)
def prune_expired_tokens() -> None:
    auth.revoked_tokens_prune()
