"""The data stack of every environment, asserted on the synthesized JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from stacks.environments import load_environments
from stacks.environments.model import ServerlessCapacity
from tests.synth_helpers import ENVIRONMENTS, JSON, Stack, Synthesized, ref, remote_output

ENVS = load_environments()


@pytest.fixture(params=ENVIRONMENTS)
def env_stack(request: pytest.FixtureRequest, synthesized: Synthesized) -> tuple[str, Stack]:
    return request.param, synthesized.of(request.param, "data")


def _data_key_arn(stack: Stack) -> str:
    name, _ = stack.one("aws_kms_key", "/data-key/")
    return ref("aws_kms_key", name, "arn")


def _cluster(stack: Stack) -> JSON:
    return stack.one("aws_rds_cluster")[1]


def _replication_group(stack: Stack) -> JSON:
    return stack.one("aws_elasticache_replication_group")[1]


def _network_ref(synthesized: Synthesized, value: str) -> tuple[Stack, str, str, str]:
    """Resolve a cross-stack reference to (network stack, type, name, attribute)."""
    producer, target = remote_output(synthesized, value)
    assert producer.id.endswith("-network")
    rtype, name, attribute = target.removeprefix("${").removesuffix("}").split(".")
    return producer, rtype, name, attribute


# -- Aurora PostgreSQL ----------------------------------------------------------------------


def test_pins_the_aurora_postgresql_engine_version(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cluster = _cluster(stack)
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engine_mode"] == "provisioned"
    assert cluster["engine_version"] == ENVS[env].database.engine_version
    assert cluster["allow_major_version_upgrade"] is False
    assert cluster["cluster_identifier"] == f"kakehashi-{env}"
    assert cluster["database_name"] == "kakehashi"


def test_encrypts_aurora_storage_with_the_data_key(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    cluster = _cluster(stack)
    assert cluster["storage_encrypted"] is True
    assert cluster["kms_key_id"] == _data_key_arn(stack)


def test_lets_rds_manage_the_master_password_under_the_data_key(
    env_stack: tuple[str, Stack],
) -> None:
    _, stack = env_stack
    cluster = _cluster(stack)
    assert cluster["manage_master_user_password"] is True
    assert cluster["master_user_secret_kms_key_id"] == _data_key_arn(stack)
    assert not {"master_password", "master_password_wo"} & set(cluster)


def test_enables_iam_database_authentication(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    assert _cluster(stack)["iam_database_authentication_enabled"] is True


def test_enables_performance_insights_and_monitoring_on_every_instance(
    env_stack: tuple[str, Stack],
) -> None:
    _, stack = env_stack
    role_name, role = stack.one("aws_iam_role", "/aurora/monitoring-role")
    for instance in stack.resources("aws_rds_cluster_instance").values():
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_kms_key_id"] == _data_key_arn(stack)
        assert instance["performance_insights_retention_period"] == 7
        assert instance["monitoring_interval"] == 60
        assert instance["monitoring_role_arn"] == ref("aws_iam_role", role_name, "arn")
    trust = stack.policy_document(role["assume_role_policy"])["statement"]
    assert [s["principals"] for s in trust] == [
        [{"type": "Service", "identifiers": ["monitoring.rds.amazonaws.com"]}]
    ]
    assert [s["actions"] for s in trust] == [["sts:AssumeRole"]]
    _, attachment = stack.one("aws_iam_role_policy_attachment", "/aurora/")
    assert attachment["role"] == ref("aws_iam_role", role_name, "name")
    assert attachment["policy_arn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )


def test_exports_the_postgresql_log_to_a_pre_created_encrypted_group(
    env_stack: tuple[str, Stack], synthesized: Synthesized
) -> None:
    env, stack = env_stack
    cluster = _cluster(stack)
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    group_name, group = stack.one("aws_cloudwatch_log_group", "/aurora/")
    assert group["name"] == f"/aws/rds/cluster/kakehashi-{env}/postgresql"
    assert group["retention_in_days"] == ENVS[env].database.log_retention_days
    network, rtype, key_name, attribute = _network_ref(synthesized, group["kms_key_id"])
    assert (rtype, attribute) == ("aws_kms_key", "arn")
    assert "/logs-key/" in network.resources("aws_kms_key")[key_name]["//"]["metadata"]["path"]
    assert f"aws_cloudwatch_log_group.{group_name}" in cluster["depends_on"]


def test_backs_up_as_configured(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cfg = ENVS[env].database
    cluster = _cluster(stack)
    assert cluster["backup_retention_period"] == cfg.backup_retention_days
    assert cluster["preferred_backup_window"] == cfg.preferred_backup_window
    assert cluster["preferred_maintenance_window"] == cfg.preferred_maintenance_window
    assert cluster["copy_tags_to_snapshot"] is True
    if ENVS[env].production:
        assert cluster["backup_retention_period"] >= 14


def test_protects_and_snapshots_the_cluster_in_production_only(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    cluster = _cluster(stack)
    if ENVS[env].production:
        assert cluster["deletion_protection"] is True
        assert cluster["skip_final_snapshot"] is False
        assert cluster["final_snapshot_identifier"] == f"kakehashi-{env}-final"
    else:
        assert cluster["deletion_protection"] is False
        assert cluster["skip_final_snapshot"] is True
        assert "final_snapshot_identifier" not in cluster


def test_sizes_capacity_from_the_config(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cfg = ENVS[env].database
    cluster = _cluster(stack)
    instances = list(stack.resources("aws_rds_cluster_instance").values())
    assert len(instances) == cfg.instance_count
    cap = cfg.capacity
    assert isinstance(cap, ServerlessCapacity)
    scaling = cluster["serverlessv2_scaling_configuration"]
    assert scaling["min_capacity"] == float(cap.min_acu)
    assert scaling["max_capacity"] == float(cap.max_acu)
    assert scaling.get("seconds_until_auto_pause") == cap.seconds_until_auto_pause
    assert {i["instance_class"] for i in instances} == {"db.serverless"}


def test_auto_pauses_only_dev() -> None:
    pausing = {
        env
        for env, cfg in ENVS.items()
        if isinstance(cfg.database.capacity, ServerlessCapacity)
        and cfg.database.capacity.seconds_until_auto_pause is not None
    }
    assert pausing == {"dev"}


def test_spreads_instances_round_robin_over_the_azs(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    azs = ENVS[env].availability_zones
    instances = sorted(
        stack.resources("aws_rds_cluster_instance").values(), key=lambda i: i["identifier"]
    )
    assert [i["availability_zone"] for i in instances] == [
        azs[n % len(azs)] for n in range(len(instances))
    ]
    if ENVS[env].production:
        assert len({i["availability_zone"] for i in instances}) >= 2


def test_keeps_instances_private_patched_and_attached_to_the_cluster(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    cluster_name, _ = stack.one("aws_rds_cluster")
    subnet_group_name, _ = stack.one("aws_db_subnet_group")
    for instance in stack.resources("aws_rds_cluster_instance").values():
        assert instance["cluster_identifier"] == ref("aws_rds_cluster", cluster_name)
        assert instance["publicly_accessible"] is False
        assert instance["auto_minor_version_upgrade"] is True
        assert instance["db_subnet_group_name"] == ref(
            "aws_db_subnet_group", subnet_group_name, "name"
        )
        assert instance["ca_cert_identifier"] == "rds-ca-rsa2048-g1"
        assert instance["preferred_maintenance_window"] == (
            ENVS[env].database.preferred_maintenance_window
        )
        assert instance["identifier"].startswith(f"kakehashi-{env}-")


def test_sets_production_postgres_parameters(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    group_name, group = stack.one("aws_rds_cluster_parameter_group")
    assert group["family"] == "aurora-postgresql16"
    assert _cluster(stack)["db_cluster_parameter_group_name"] == ref(
        "aws_rds_cluster_parameter_group", group_name, "name"
    )
    params = {p["name"]: (p["value"], p["apply_method"]) for p in group["parameter"]}
    assert params["rds.force_ssl"] == ("1", "immediate")
    assert params["ssl_min_protocol_version"] == ("TLSv1.2", "immediate")
    assert params["password_encryption"] == ("scram-sha-256", "immediate")
    assert params["log_min_duration_statement"] == ("1000", "immediate")
    for flag in ("log_connections", "log_disconnections", "log_lock_waits"):
        assert params[flag] == ("1", "immediate"), flag
    assert params["log_statement"] == ("ddl", "immediate")
    assert params["statement_timeout"] == ("60000", "immediate")
    assert params["idle_in_transaction_session_timeout"] == ("60000", "immediate")
    assert params["max_connections"] == (
        str(ENVS[env].database.max_connections),
        "pending-reboot",
    )
    assert params["shared_preload_libraries"] == ("pg_stat_statements", "pending-reboot")


# -- network placement ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subnet_group_type", ["aws_db_subnet_group", "aws_elasticache_subnet_group"]
)
def test_places_data_stores_in_the_isolated_subnets(
    env_stack: tuple[str, Stack], synthesized: Synthesized, subnet_group_type: str
) -> None:
    env, stack = env_stack
    _, group = stack.one(subnet_group_type)
    tiers = []
    for value in group["subnet_ids"]:
        network, rtype, name, attribute = _network_ref(synthesized, value)
        assert (rtype, attribute) == ("aws_subnet", "id")
        tiers.append(network.resources("aws_subnet")[name]["tags"]["tier"])
    assert tiers == ["isolated_data"] * ENVS[env].network.az_count


@pytest.mark.parametrize(
    ("path", "port", "resource_type"),
    [("/aurora/", 5432, "aws_rds_cluster"), ("/cache/", 6379, "aws_elasticache_replication_group")],
)
def test_admits_only_the_service_security_group_on_the_store_port(
    env_stack: tuple[str, Stack],
    synthesized: Synthesized,
    path: str,
    port: int,
    resource_type: str,
) -> None:
    _, stack = env_stack
    sg_name, sg = stack.one("aws_security_group", path)
    assert not {"ingress", "egress"} & set(sg)  # no inline rules: default egress removed
    sg_ref = ref("aws_security_group", sg_name)
    rules = [
        r
        for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == sg_ref
    ]
    assert len(rules) == 1
    (rule,) = rules
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", port, port)
    assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule)
    network, rtype, name, attribute = _network_ref(
        synthesized, rule["referenced_security_group_id"]
    )
    assert (rtype, attribute) == ("aws_security_group", "id")
    assert "/service-sg" in network.resources(rtype)[name]["//"]["metadata"]["path"]
    store = stack.one(resource_type)[1]
    groups = store.get("vpc_security_group_ids") or store.get("security_group_ids")
    assert groups == [sg_ref]
    assert stack.resources("aws_vpc_security_group_egress_rule") == {}


# -- ElastiCache -----------------------------------------------------------------------------


def test_requires_tls_and_encrypts_the_cache_with_the_data_key(
    env_stack: tuple[str, Stack],
) -> None:
    _, stack = env_stack
    group = _replication_group(stack)
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert group["at_rest_encryption_enabled"] == "true"
    assert group["kms_key_id"] == _data_key_arn(stack)


def test_pins_the_cache_engine_and_its_parameter_family(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cfg = ENVS[env].cache
    group = _replication_group(stack)
    assert (group["engine"], group["engine_version"]) == (cfg.engine, cfg.engine_version)
    assert group["node_type"] == cfg.node_type
    assert group["replication_group_id"] == f"kakehashi-{env}"
    pg_name, pg = stack.one("aws_elasticache_parameter_group")
    assert pg["family"] == f"{cfg.engine}{cfg.engine_version.split('.')[0]}"
    assert group["parameter_group_name"] == ref("aws_elasticache_parameter_group", pg_name, "name")
    assert {p["name"]: p["value"] for p in pg["parameter"]}["maxmemory-policy"] == "volatile-lru"
    assert group["auto_minor_version_upgrade"] == "true"


def test_takes_the_cache_auth_token_from_the_generated_secret(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    secret_name, secret = stack.one("aws_secretsmanager_secret", "/cache/auth-secret/")
    assert secret["name"] == f"kakehashi/{env}/redis-auth"
    assert secret["kms_key_id"] == _data_key_arn(stack)
    version_name, version = stack.one("aws_secretsmanager_secret_version", "/cache/auth-token/")
    ((random_name, random),) = stack.data("aws_secretsmanager_random_password").items()
    # The value is generated by AWS at plan time and written write-only, once.
    assert version["secret_id"] == ref("aws_secretsmanager_secret", secret_name)
    assert version["secret_string_wo"] == (
        f"${{data.aws_secretsmanager_random_password.{random_name}.random_password}}"
    )
    assert version["secret_string_wo_version"] == ENVS[env].cache.auth_token_generation
    assert "secret_string" not in version
    assert random["password_length"] == 64
    assert random["exclude_punctuation"] is True
    assert random["include_space"] is False
    # The cache reads it back from Secrets Manager once the version exists.
    ((current_name, current),) = stack.data("aws_secretsmanager_secret_version").items()
    assert current["secret_id"] == ref("aws_secretsmanager_secret", secret_name)
    assert current["version_stage"] == "AWSCURRENT"
    assert current["depends_on"] == [f"aws_secretsmanager_secret_version.{version_name}"]
    group = _replication_group(stack)
    assert group["auth_token"] == (
        f"${{data.aws_secretsmanager_secret_version.{current_name}.secret_string}}"
    )
    assert group["auth_token_update_strategy"] == "ROTATE"


def test_fails_over_across_azs_when_the_cache_has_replicas(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cfg = ENVS[env].cache
    group = _replication_group(stack)
    assert group["num_cache_clusters"] == cfg.num_cache_clusters
    replicated = cfg.num_cache_clusters >= 2
    assert group["multi_az_enabled"] is replicated
    assert group["automatic_failover_enabled"] is replicated
    azs = group["preferred_cache_cluster_azs"]
    assert len(azs) == cfg.num_cache_clusters
    assert len(set(azs)) == min(cfg.num_cache_clusters, len(ENVS[env].availability_zones))
    if ENVS[env].production:
        assert replicated


def test_delivers_cache_slow_and_engine_logs_to_encrypted_groups(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    groups = stack.by_path("aws_cloudwatch_log_group", "/cache/")
    by_name = {g["name"]: g for g in groups.values()}
    assert set(by_name) == {
        f"/kakehashi/{env}/elasticache/slow-log",
        f"/kakehashi/{env}/elasticache/engine-log",
    }
    for group in by_name.values():
        assert group["retention_in_days"] == ENVS[env].cache.log_retention_days
        assert group["kms_key_id"].startswith("${data.terraform_remote_state.")
    deliveries = _replication_group(stack)["log_delivery_configuration"]
    assert sorted((d["log_type"], d["destination_type"], d["log_format"]) for d in deliveries) == [
        ("engine-log", "cloudwatch-logs", "json"),
        ("slow-log", "cloudwatch-logs", "json"),
    ]
    for delivery in deliveries:
        (name,) = [n for n, g in groups.items() if g["name"].endswith(delivery["log_type"])]
        assert delivery["destination"] == ref("aws_cloudwatch_log_group", name, "name")


def test_snapshots_and_maintains_the_cache_as_configured(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cfg = ENVS[env].cache
    group = _replication_group(stack)
    assert group["snapshot_retention_limit"] == cfg.snapshot_retention_days
    assert group["snapshot_window"] == cfg.snapshot_window
    assert group["maintenance_window"] == cfg.maintenance_window
    if ENVS[env].production:
        assert group["final_snapshot_identifier"] == f"kakehashi-{env}-cache-final"
    else:
        assert "final_snapshot_identifier" not in group


# -- keys and secrets ------------------------------------------------------------------------


def test_rotates_the_data_key_and_admits_no_service_principal(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    _, key = stack.one("aws_kms_key", "/data-key/")
    assert key["enable_key_rotation"] is True
    assert key["customer_master_key_spec"] == "SYMMETRIC_DEFAULT"
    statements = stack.policy_document(key["policy"])["statement"]
    principals = [p for s in statements for p in s["principals"]]
    assert principals == [
        {"type": "AWS", "identifiers": [f"arn:aws:iam::{ENVS[env].account_id}:root"]}
    ]
    _, alias = stack.one("aws_kms_alias", "/data-key/")
    assert alias["name"] == f"alias/kakehashi/{env}/data"


def test_creates_an_ecc_p256_signing_key_for_jwts(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    _, key = stack.one("aws_kms_key", "/jwt-signing-key/")
    assert key["customer_master_key_spec"] == "ECC_NIST_P256"
    assert key["key_usage"] == "SIGN_VERIFY"
    assert key["enable_key_rotation"] is False  # asymmetric keys cannot rotate
    _, alias = stack.one("aws_kms_alias", "/jwt-signing-key/")
    assert alias["name"] == f"alias/kakehashi/{env}/jwt-signing"


def test_creates_the_carrier_secret_empty_and_encrypted(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    name, secret = stack.one("aws_secretsmanager_secret", "/carrier-secret/")
    assert secret["name"] == f"kakehashi/{env}/carrier-api"
    assert secret["kms_key_id"] == _data_key_arn(stack)
    assert secret["recovery_window_in_days"] == 30
    carrier_ref = ref("aws_secretsmanager_secret", name)
    assert not [
        v
        for v in stack.resources("aws_secretsmanager_secret_version").values()
        if v["secret_id"] == carrier_ref
    ]


def test_marks_the_secret_outputs_sensitive(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    outputs = stack.doc["output"]
    sensitive = {k for k, v in outputs.items() if v.get("sensitive")}
    assert {
        "database_master_secret_arn",
        "cache_auth_secret_arn",
        "carrier_secret_arn",
    } <= sensitive
    assert outputs["database_endpoint"]["value"] == ref(
        "aws_rds_cluster", stack.one("aws_rds_cluster")[0], "endpoint"
    )
    assert outputs["database_master_secret_arn"]["value"] == (
        f"${{aws_rds_cluster.{stack.one('aws_rds_cluster')[0]}.master_user_secret[0].secret_arn}}"
    )


def test_requires_terraform_with_write_only_attributes(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    assert stack.doc["terraform"]["required_version"] == ">= 1.11"


# -- no secret in any synthesized file ------------------------------------------------------

#: Attribute names that carry a credential. Their value must be a reference resolved by
#: Terraform (``${...}``), never a literal.
_SECRET_KEY = re.compile(r"(password|passwd|secret_string|secret_binary|auth_token|api_key|token)")
#: Attributes whose names match but hold no credential (flags, sizes, strategies, key ids).
_NOT_SECRET = re.compile(
    r"(_version|_length|_strategy|_kms_key_id|_arn|^manage_master_user_password)$"
)
_REFERENCE = re.compile(r"^\$\{[^{}]+\}$")
_CREDENTIAL_SHAPES = re.compile(
    r"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|postgres(ql)?://[^:/\s]+:[^@/\s]+@"
    r"|rediss?://[^:/\s]*:[^@/\s]+@"
)


def _secret_literals(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Yield (path, value) for every credential-named attribute, literal or not."""
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = f"{path}.{key}"
            if _SECRET_KEY.search(key) and not _NOT_SECRET.search(key):
                yield child_path, child
            yield from _secret_literals(child, child_path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _secret_literals(child, f"{path}[{index}]")


def test_no_plaintext_secret_in_any_synthesized_file(synthesized: Synthesized) -> None:
    checked = 0
    for path, text in synthesized.files.items():
        assert not _CREDENTIAL_SHAPES.search(text), path
        if path.suffix != ".json":
            continue
        for where, value in _secret_literals(json.loads(text)):
            if isinstance(value, (dict, list)):
                continue
            checked += 1
            assert isinstance(value, str), f"{path}: {where} holds a literal: {value!r}"
            assert _REFERENCE.match(value), f"{path}: {where} holds a literal: {value!r}"
    # Each data stack has the cache auth_token and the write-only secret_string_wo.
    assert checked >= 2 * len(ENVIRONMENTS)


@pytest.mark.parametrize(
    ("doc", "flagged"),
    [
        ({"resource": {"aws_rds_cluster": {"c": {"master_password": "hunter2hunter2"}}}}, True),
        ({"resource": {"x": {"y": {"secret_string": "${var.s}-suffix"}}}}, True),
        ({"resource": {"x": {"y": {"auth_token": "${data.x.y.secret_string}"}}}}, False),
        ({"resource": {"x": {"y": {"manage_master_user_password": True}}}}, False),
        ({"resource": {"x": {"y": {"auth_token_update_strategy": "ROTATE"}}}}, False),
    ],
)
def test_secret_scan_flags_literals_and_passes_references(doc: JSON, flagged: bool) -> None:
    literals = [
        (where, value)
        for where, value in _secret_literals(doc)
        if not (isinstance(value, str) and _REFERENCE.match(value))
        and not isinstance(value, (dict, list))
    ]
    assert bool(literals) is flagged, literals
