"""The inbound-call pipeline both receivers run (company action receivers, lead receivers): the raw call
is stored first without its credentials, then processed; its outcome and problem are kept on it, and a
failed or interrupted one is replayed. Each app says only what a call makes (an engagement, a lead)."""
