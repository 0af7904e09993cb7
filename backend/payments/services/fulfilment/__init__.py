"""Applying Stripe's word to accounts: credits, plans, take-backs — each exactly once.

Two ways in, one set of rules: a stored webhook event (``stripe_event_process``, run by
the task) and the success page's re-sync of a Checkout Session (``checkout_apply``).

Exactly once:
- An event is processed under its row lock; the ledger entry and the event's processed
  mark commit in one transaction, so a redelivered event (sequential or concurrent) finds
  it processed and does nothing.
- A purchase's ledger entry is unique on (purchase, Checkout Session id) and written under
  the session's row lock, so the webhook, its duplicates and the re-sync credit once.
- A refund is unique on (refund, charge, refunded amount) and takes back only what earlier
  refunds of the charge have not; a dispute takes back the rest of the purchase.

Order: Stripe does not deliver events in order. A subscription remembers the ``created``
time of the newest event applied and ignores older ones; ``canceled`` is final.

``entry_points`` takes events in and hands each type to ``checkout_sessions``,
``subscriptions`` or ``refunds``; ``accounts`` finds the account an object is about and
recomputes its plan; ``outcome`` is what applying one did.
"""
