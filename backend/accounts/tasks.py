from celery import shared_task

from backend.accounts.services import auth, email_links, posthog_deletion


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


@shared_task(name="backend.accounts.tasks.posthog_person_delete", ignore_result=True)
def posthog_person_delete(request_id: int, attempts: int = 0) -> None:
    """One attempt at a PostHog person deletion; the service schedules the retries."""
    posthog_deletion.posthog_deletion_attempt(request_id=request_id, attempts=attempts)


@shared_task(name="backend.accounts.tasks.posthog_deletions_sweep", ignore_result=True)
def posthog_deletions_sweep() -> None:
    posthog_deletion.posthog_deletions_sweep()
