"""The SNS topic every alarm of an environment notifies, encrypted with its own CMK."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.iam import Condition, Statement, policy_document
from modules.security.kms_key import KmsKey, KmsKeyProps, ServiceUse

#: What CloudWatch needs on the topic's key to publish encrypted messages.
PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


@dataclass(frozen=True, kw_only=True)
class AlarmTopicProps:
    """Props of :class:`AlarmTopic`.

    ``name``: the topic name (see stacks/naming.py).
    ``key_alias``: alias of the topic's CMK, without ``alias/``.
    ``account_id``: only this account's alarms may publish.
    ``email``: the subscribed address (must confirm the subscription once).
    """

    name: str
    key_alias: str
    account_id: str
    email: str


class AlarmTopic(Construct):
    """Guarantees: the topic is encrypted with a dedicated CMK whose policy admits CloudWatch
    (which must encrypt what it publishes); only this account's CloudWatch alarms may
    publish (topic policy with ``aws:SourceAccount``); every message reaches ``email``.
    """

    def __init__(self, scope: Construct, id_: str, props: AlarmTopicProps) -> None:
        super().__init__(scope, id_)
        if "@" not in props.email:
            raise ValueError(f"AlarmTopic {id_}: email={props.email!r}: an e-mail address")
        source_account = Condition(
            test="StringEquals", variable="aws:SourceAccount", values=[props.account_id]
        )
        self.key = KmsKey(
            self,
            "key",
            KmsKeyProps(
                alias=props.key_alias,
                description=f"SNS encryption of {props.name}",
                account_id=props.account_id,
                services=[
                    ServiceUse(
                        sid="CloudWatchAlarms",
                        service="cloudwatch.amazonaws.com",
                        actions=PUBLISHER_KEY_ACTIONS,
                        conditions=[source_account],
                    )
                ],
            ),
        )
        self.topic = SnsTopic(self, "topic", name=props.name, kms_master_key_id=self.key.arn)
        SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_document(
                self,
                "policy-doc",
                [
                    Statement(
                        sid="CloudWatchAlarmsPublish",
                        actions=["sns:Publish"],
                        resources=[self.topic.arn],
                        principals={"Service": ["cloudwatch.amazonaws.com"]},
                        conditions=[source_account],
                    ),
                    Statement(
                        sid="DenyInsecureTransport",
                        effect="Deny",
                        actions=["sns:Publish"],
                        resources=[self.topic.arn],
                        principals={"AWS": ["*"]},
                        conditions=[
                            Condition(test="Bool", variable="aws:SecureTransport", values=["false"])
                        ],
                    ),
                ],
            ),
        )
        SnsTopicSubscription(
            self, "email", topic_arn=self.topic.arn, protocol="email", endpoint=props.email
        )

    @property
    def arn(self) -> str:
        return self.topic.arn
