"""An ACM certificate validated through DNS records in a Route 53 zone."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class DnsValidatedCertificateProps:
    """Props of :class:`DnsValidatedCertificate`.

    ``domain_name``: the certificate's name (no wildcard).
    ``zone_id``: the public Route 53 zone that holds ``domain_name``.
    ``validation_record_ttl_seconds``: TTL of the validation CNAMEs. Default: 60.
    """

    domain_name: str
    zone_id: str
    validation_record_ttl_seconds: int = 60


class DnsValidatedCertificate(Construct):
    """Guarantees: ``certificate_arn`` resolves only once ACM has issued the certificate
    (listeners using it wait for validation); replacing it creates the new one first, so a
    listener never points at a deleted certificate; ACM renews it as long as the
    validation records exist.
    """

    def __init__(self, scope: Construct, id_: str, props: DnsValidatedCertificateProps) -> None:
        super().__init__(scope, id_)
        if props.domain_name.startswith("*") or not props.domain_name:
            raise ValueError(
                f"DnsValidatedCertificate {id_}: domain_name={props.domain_name!r}: "
                "give one exact host name"
            )
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=props.domain_name,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # One record per validation option: keyed by domain so a set is never indexed.
        options = TerraformIterator.from_complex_list(
            self.certificate.domain_validation_options, "domain_name"
        )
        records = Route53Record(
            self,
            "validation-record",
            for_each=options,
            zone_id=props.zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=props.validation_record_ttl_seconds,
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(
                TerraformIterator.from_resources(records).pluck_property("fqdn")
            ),
        )

    @property
    def certificate_arn(self) -> str:
        """The issued certificate (depends on validation having completed)."""
        return self.validation.certificate_arn
