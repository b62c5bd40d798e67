"""The words the demo data is made of. Plain constants: the generators pick from them with
their own `random.Random`, so the same seed always picks the same words."""

from __future__ import annotations

from typing import Final

FIRST_NAMES: Final = (
    "Ada", "Amara", "Ben", "Carla", "Chen", "Dmitri", "Elena", "Farah", "Gabriel", "Hana",
    "Ines", "Jonas", "Kenji", "Leila", "Lucas", "Maya", "Mateo", "Nadia", "Omar", "Priya",
    "Rafael", "Sofia", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES: Final = (
    "Alvarez", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Patel", "Quinn",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Yilmaz", "Zhang",
)  # fmt: skip

# (name, slug): the slug is also the email domain, `admin@acme.example`.
ORGANIZATIONS: Final = (("Acme Robotics", "acme"), ("Globex Research", "globex"))

PROVIDER_MODELS: Final[dict[str, tuple[str, ...]]] = {
    "openai": ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3-mini"),
    "anthropic": ("claude-sonnet-4", "claude-3-5-haiku", "claude-opus-4"),
    "google": ("gemini-2.5-pro", "gemini-2.0-flash", "gemini-1.5-pro"),
    "mistral": ("mistral-large-latest", "mistral-small-latest", "codestral-latest"),
}
PROVIDER_WEIGHTS: Final = {"openai": 0.4, "anthropic": 0.3, "google": 0.18, "mistral": 0.12}

# Blended price in micro-dollars per 1,000 tokens (input and output averaged).
MODEL_PRICE_MICROS_PER_1K: Final[dict[str, int]] = {
    "gpt-4o": 6_250, "gpt-4o-mini": 375, "gpt-4.1": 5_000, "o3-mini": 2_750,
    "claude-sonnet-4": 9_000, "claude-3-5-haiku": 2_400, "claude-opus-4": 45_000,
    "gemini-2.5-pro": 5_600, "gemini-2.0-flash": 250, "gemini-1.5-pro": 3_100,
    "mistral-large-latest": 4_000, "mistral-small-latest": 400, "codestral-latest": 600,
}  # fmt: skip

# category -> agent base names (made unique per organization with a qualifier).
AGENT_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "support": ("Ticket Triage", "Refund Assistant", "Escalation Router", "FAQ Responder",
                "Sentiment Monitor", "Live Chat Copilot", "Warranty Claims Helper"),
    "research": ("Literature Reviewer", "Patent Scout", "Market Analyst", "Citation Checker",
                 "Experiment Planner", "Competitor Watch", "Survey Synthesizer"),
    "sales": ("Lead Qualifier", "Outreach Writer", "CRM Enricher", "Deal Desk Assistant",
              "Pricing Advisor", "Meeting Scheduler"),
    "data": ("SQL Copilot", "Data Quality Checker", "ETL Monitor", "Report Generator",
             "Anomaly Detector", "Schema Documenter"),
    "devops": ("Incident Responder", "Log Summarizer", "Deploy Guardian", "Cloud Cost Optimizer",
               "On-call Assistant", "Postmortem Writer"),
    "content": ("Blog Drafter", "SEO Optimizer", "Social Post Writer", "Translation Reviewer",
                "Newsletter Curator", "Style Editor"),
    "finance": ("Invoice Processor", "Expense Auditor", "Forecast Builder",
                "Reconciliation Agent"),
    "security": ("Phishing Analyzer", "Vulnerability Triage", "Access Reviewer",
                 "Threat Intel Digest"),
}  # fmt: skip
CATEGORY_WEIGHTS: Final = {
    "support": 0.2, "research": 0.13, "sales": 0.14, "data": 0.14, "devops": 0.13,
    "content": 0.12, "finance": 0.07, "security": 0.07,
}  # fmt: skip
NAME_QUALIFIERS: Final = (
    "EMEA", "APAC", "Americas", "Enterprise", "SMB", "Internal", "Beta", "Tier 2", "Nightly",
)  # fmt: skip

# category -> (what it works on, for whom, what it produces)
CATEGORY_PHRASES: Final[dict[str, tuple[str, str, str]]] = {
    "support": ("incoming customer tickets", "the support desk", "drafted replies"),
    "research": ("papers, filings and news", "the research group", "annotated briefs"),
    "sales": ("inbound leads and CRM records", "account executives", "qualified opportunities"),
    "data": ("warehouse tables and pipelines", "the analytics team", "checked reports"),
    "devops": ("alerts, logs and deploys", "the on-call engineers", "incident summaries"),
    "content": ("briefs and draft articles", "the marketing team", "publish-ready copy"),
    "finance": ("invoices and ledger entries", "the finance office", "reconciled statements"),
    "security": ("reported emails and scanner findings", "the security team", "triaged cases"),
}
DESCRIPTION_TEMPLATES: Final = (
    "Reads {source} and hands {deliverable} to {audience}.",
    "Works through {source} around the clock so that {audience} only sees {deliverable}.",
    "Turns {source} into {deliverable}; escalates to a human when confidence is low.",
    "Assists {audience}: watches {source} and prepares {deliverable}.",
)

CAPABILITIES: Final[dict[str, tuple[str, ...]]] = {
    "support": ("classification", "sentiment_analysis", "email", "knowledge_base", "translation"),
    "research": ("web_search", "summarization", "pdf_parsing", "citation_lookup"),
    "sales": ("crm_sync", "email", "web_search", "calendar", "enrichment"),
    "data": ("sql", "python_sandbox", "charting", "anomaly_detection", "summarization"),
    "devops": ("log_search", "metrics_query", "shell", "paging", "summarization"),
    "content": ("summarization", "translation", "seo_analysis", "image_generation"),
    "finance": ("ocr", "ledger_access", "spreadsheet", "anomaly_detection"),
    "security": ("threat_intel", "sandbox_detonation", "ldap", "classification"),
}
GENERAL_CAPABILITIES: Final = ("vector_search", "function_calling", "structured_output")

SYSTEM_PROMPT: Final = "You are {name}, an assistant for {audience}. Be precise and brief."

# Step labels per node type; `{agent}` is filled for nodes that call another agent.
NODE_LABELS: Final[dict[str, tuple[str, ...]]] = {
    "ai": ("Classify request", "Summarize context", "Extract entities", "Draft response",
           "Score confidence", "Plan next steps", "Translate", "Rewrite for tone"),
    "human": ("Manager approval", "Expert review", "Customer confirmation", "QA sign-off"),
    "decision": ("Route by intent", "Confidence check", "Needs approval?", "Priority gate",
                 "Budget check"),
    "action": ("Fetch record", "Update CRM", "Send email", "Post to Slack", "Query warehouse",
               "Create ticket", "Call webhook", "Store result"),
    "timer": ("Wait for SLA window", "Back off", "Daily schedule", "Cool-down"),
}  # fmt: skip
ACTIONS: Final = ("http_request", "send_email", "db_query", "slack_message", "crm_update",
                  "create_ticket", "store_document")  # fmt: skip
AI_PROMPTS: Final = (
    "Classify the request into one of the known intents.",
    "Summarize the conversation so far in three sentences.",
    "Extract names, dates and amounts as JSON.",
    "Draft a reply that answers every question asked.",
    "Rate your confidence from 0 to 1 and explain briefly.",
)
# Outgoing branches of a decision node; the last one of each set is the fallback.
CONDITIONS: Final = (
    ("confidence >= 0.8", "confidence < 0.8"),
    ("intent == 'refund'", "intent == 'question'", "else"),
    ("approved == true", "approved == false"),
    ("priority in ['high', 'urgent']", "priority == 'normal'", "else"),
    ("amount > 1000", "else"),
    ("sentiment == 'negative'", "sentiment != 'negative'"),
    ("retries < 3", "retries >= 3"),
)

# Why a step fails, per node type. `{provider}` and `{model}` come from the agent.
STEP_ERRORS: Final[dict[str, tuple[str, ...]]] = {
    "ai": ("{provider} API error 429: rate limit exceeded for {model}",
           "{provider} API error 529: overloaded, retry later",
           "{provider} API error 500: internal server error",
           "context length exceeded: prompt is longer than {model} accepts",
           "output failed schema validation: missing field 'answer'",
           "request to {provider} timed out after 60s"),
    "action": ("HTTP 502 Bad Gateway from https://api.partner.example/v2/records",
               "connection refused: smtp.mail.example:587",
               "CRM rejected update: field 'stage' is read-only",
               "called agent failed: upstream execution ended with status failed",
               "permission denied for table analytics.orders"),
    "human": ("approval timed out after 60 minutes", "reviewer rejected the draft"),
    "decision": ("condition evaluation failed: KeyError 'score'",),
    "timer": ("scheduler lost the timer after a restart",),
}  # fmt: skip

# Execution inputs per category: (key, example values).
INPUT_FIELDS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "support": ("ticket", ("Refund for order 4471", "Cannot log in", "Invoice is wrong",
                           "Shipping delayed", "Cancel my subscription")),
    "research": ("topic", ("solid-state batteries", "LLM evaluation", "soft robotics grippers",
                           "EU AI Act obligations")),
    "sales": ("lead", ("Initech (120 seats)", "Umbrella Corp", "Hooli trial signup",
                       "Soylent renewal")),
    "data": ("table", ("analytics.orders", "crm.contacts", "billing.invoices", "web.sessions")),
    "devops": ("alert", ("p99 latency > 2s on checkout", "disk 91% on db-2",
                         "error rate spike in eu-west-1", "failed deploy of api v4.12")),
    "content": ("brief", ("launch post for Q3 release", "newsletter #58", "case study draft",
                          "landing page copy")),
    "finance": ("document", ("invoice INV-20931", "expense report March", "vendor statement")),
    "security": ("case", ("suspicious login from new country", "reported phishing email",
                          "CVE in base image")),
}  # fmt: skip

WORKFLOW_NAMES: Final = (
    "Customer Onboarding", "Refund Processing", "Weekly Market Brief", "Lead to Meeting",
    "Incident Triage", "Nightly Data Quality", "Content Publishing", "Invoice Approval",
    "Phishing Response", "Quarterly Forecast", "Release Notes", "Churn Risk Review",
    "Support Escalation", "Competitive Digest", "Vendor Due Diligence", "Access Recertification",
)  # fmt: skip
WORKFLOW_TAGS: Final = (
    "customer-facing", "internal", "nightly", "weekly", "critical", "experimental", "finance",
    "compliance", "marketing", "ops", "llm-heavy", "human-in-the-loop", "pilot",
)  # fmt: skip
NOTIFICATION_CHANNELS: Final = ("email", "slack", "pagerduty", "webhook")
