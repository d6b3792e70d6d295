"""Physical names of the resources other tools look up (pipelines, the verifier, runbooks).

Pure Python: no provider bindings, so ``pipelines/`` can import it cheaply. The stacks use
these functions when they name resources, and the post-deploy verifier uses the same ones
to find them, so the two cannot drift apart.
"""

from __future__ import annotations

PROJECT = "kakehashi"


def prefix(env: str) -> str:
    """``kakehashi-<env>``: the prefix of every physical name in an environment."""
    return f"{PROJECT}-{env}"


def ecs_cluster(env: str) -> str:
    return prefix(env)


def ecs_service(env: str) -> str:
    return f"{prefix(env)}-api"


def task_family(env: str) -> str:
    return f"{prefix(env)}-api"


def migration_task_family(env: str) -> str:
    return f"{prefix(env)}-migrate"


def api_container() -> str:
    return "api"


def load_balancer(env: str) -> str:
    return prefix(env)


def target_group(env: str) -> str:
    return f"{prefix(env)}-api"


def web_acl(env: str) -> str:
    return prefix(env)


def aurora_cluster(env: str) -> str:
    return prefix(env)


def redis_replication_group(env: str) -> str:
    return prefix(env)


def database_name() -> str:
    return PROJECT


def secret_name(env: str, purpose: str) -> str:
    """Secrets Manager names: ``kakehashi/<env>/<purpose>`` (redis-auth, carrier-api)."""
    return f"{PROJECT}/{env}/{purpose}"


def alarm_prefix(env: str) -> str:
    """Every alarm of an environment is named ``kakehashi-<env>-<what>``."""
    return f"{prefix(env)}-"


def log_group(env: str, what: str) -> str:
    return f"/{PROJECT}/{env}/{what}"


# ---- Delivery (the delivery account's pipeline and the roles that deploy each environment) --


def pipeline() -> str:
    """The CodePipeline that promotes one image digest dev -> staging -> prod."""
    return PROJECT


def codebuild_project(stage: str) -> str:
    """``kakehashi-build``, ``kakehashi-deploy-<env>``: one CodeBuild project per stage."""
    return f"{PROJECT}-{stage}"


def deployer_role(env: str) -> str:
    """The role in an environment's account that ``cdktf deploy`` runs as (bootstrapped once
    per account; trusted only by the delivery account's deploy roles of that environment)."""
    return f"{prefix(env)}-deployer"


def github_deploy_role(env: str) -> str:
    """Delivery-account role GitHub Actions assumes (OIDC) for the ``<env>`` environment."""
    return f"{PROJECT}-github-deploy-{env}"


def github_publish_role() -> str:
    """Delivery-account role GitHub Actions assumes (OIDC) to push the image from main."""
    return f"{PROJECT}-github-publish"


def drift_reader_role(env: str) -> str:
    """Read-only role in an environment's account that the scheduled drift check uses."""
    return f"{prefix(env)}-drift-reader"


def github_drift_role() -> str:
    """Delivery-account role the scheduled drift workflow assumes (main branch only)."""
    return f"{PROJECT}-github-drift"


def approval_topic() -> str:
    """SNS topic announcing a release waiting for the production approval."""
    return f"{PROJECT}-prod-approval"


def api_log_group(env: str) -> str:
    """The API container's (and the migration task's) log group."""
    return log_group(env, "api")


def waf_log_group(env: str) -> str:
    """WAF only delivers to log groups whose name starts with ``aws-waf-logs-``."""
    return f"aws-waf-logs-{prefix(env)}"


def access_logs_bucket(env: str, account_id: str) -> str:
    """ALB access logs and S3 server access logs (bucket names are global: account-scoped)."""
    return f"{prefix(env)}-access-logs-{account_id}"


def static_bucket(env: str, account_id: str) -> str:
    return f"{prefix(env)}-static-{account_id}"


def alarm_topic(env: str) -> str:
    return f"{prefix(env)}-alarms"


def alarm(env: str, what: str) -> str:
    """``kakehashi-<env>-<what>``, e.g. ``kakehashi-prod-alb-5xx-rate``."""
    return f"{alarm_prefix(env)}{what}"


def dashboard(env: str) -> str:
    return prefix(env)


def execution_role(env: str) -> str:
    return f"{prefix(env)}-api-execution"


def task_role(env: str) -> str:
    return f"{prefix(env)}-api-task"


def security_group(env: str, what: str) -> str:
    return f"{prefix(env)}-{what}"
