"""Use cases for administrators: councils, providers and pooled funds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ledger.app_core import LedgerCore, Outcome
from ledger.council import (
    DEFAULT_INVOICE_TOLERANCE_BP,
    DEFAULT_MAX_CONTINGENCY_BP,
    DEFAULT_SURPLUS_WEEKS,
    Council,
)
from ledger.errors import AlreadyExistsError
from ledger.ids import council_id, pooled_fund_id, provider_id
from ledger.pooled_fund import PooledFund
from ledger.provenance import Provenance
from ledger.provider import Provider


class AdminCommands(LedgerCore):
    def register_council(
        self,
        code: str,
        name: str,
        effective_on: date,
        prov: Provenance,
        surplus_weeks: int = DEFAULT_SURPLUS_WEEKS,
        invoice_tolerance_bp: int = DEFAULT_INVOICE_TOLERANCE_BP,
        max_contingency_bp: int = DEFAULT_MAX_CONTINGENCY_BP,
    ) -> Outcome:
        args = {
            "code": code,
            "name": name,
            "on": effective_on,
            "weeks": surplus_weeks,
            "bp": invoice_tolerance_bp,
            "contingency_bp": max_contingency_bp,
        }

        def action() -> tuple[list[Council], Outcome]:
            if self.exists(council_id(code)):
                raise AlreadyExistsError("a council with that code is registered", council=code)
            council = Council.register(
                code,
                name,
                effective_on,
                prov,
                surplus_weeks,
                invoice_tolerance_bp,
                max_contingency_bp,
            )
            return [council], {"council": code, "version": council.version}

        return self.run_command("register_council", args, prov, action)

    def record_eligible_population(
        self, code: str, counts: dict[str, int], effective_on: date, prov: Provenance
    ) -> Outcome:
        def action() -> tuple[list[Council], Outcome]:
            council = self.council(code)
            council.record_eligible_population(counts, effective_on, prov)
            return [council], {"council": code, "version": council.version}

        args = {"code": code, "counts": counts, "on": effective_on}
        return self.run_command("record_eligible_population", args, prov, action)

    def record_gross_spend(
        self,
        code: str,
        financial_year: str,
        gross_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> Outcome:
        """The council's gross adult-social-care spend for a year (the spend measure's base)."""

        def action() -> tuple[list[Council], Outcome]:
            council = self.council(code)
            council.record_gross_spend(financial_year, gross_pence, effective_on, prov)
            return [council], {"council": code, "version": council.version}

        args = {"code": code, "year": financial_year, "pence": gross_pence, "on": effective_on}
        return self.run_command("record_gross_spend", args, prov, action)

    def change_council_policy(
        self,
        code: str,
        surplus_weeks: int,
        invoice_tolerance_bp: int,
        effective_on: date,
        prov: Provenance,
        max_contingency_bp: int | None = None,
    ) -> Outcome:
        def action() -> tuple[list[Council], Outcome]:
            council = self.council(code)
            council.change_policy(
                surplus_weeks, invoice_tolerance_bp, effective_on, prov, max_contingency_bp
            )
            return [council], {"council": code, "version": council.version}

        args = {
            "code": code,
            "weeks": surplus_weeks,
            "bp": invoice_tolerance_bp,
            "contingency_bp": max_contingency_bp,
            "on": effective_on,
        }
        return self.run_command("change_council_policy", args, prov, action)

    def set_retention_policy(
        self, code: str, years: int, effective_on: date, prov: Provenance
    ) -> Outcome:
        """The council's retention period (years after the end of the financial year in which
        a person's last budget ended); ``careledger retention`` erases by it."""

        def action() -> tuple[list[Council], Outcome]:
            council = self.council(code)
            council.set_retention_policy(years, effective_on, prov)
            return [council], {"council": code, "version": council.version}

        args = {"code": code, "years": years, "on": effective_on}
        return self.run_command("set_retention_policy", args, prov, action)

    def retention_policies(self, codes: Iterable[str]) -> dict[str, int]:
        """Each council's retention period in years (its default until one is set)."""
        return {code: self.council(code).retention_years for code in codes}

    def register_provider(
        self, provider_ref: str, name: str, effective_on: date, prov: Provenance
    ) -> Outcome:
        def action() -> tuple[list[Provider], Outcome]:
            if self.exists(provider_id(provider_ref)):
                raise AlreadyExistsError(
                    "a provider with that reference is registered", provider=provider_ref
                )
            provider = Provider.register(provider_ref, name, effective_on, prov)
            return [provider], {"provider": provider_ref, "version": provider.version}

        args = {"ref": provider_ref, "name": name, "on": effective_on}
        return self.run_command("register_provider", args, prov, action)

    def change_provider_status(
        self, provider_ref: str, status: str, effective_on: date, prov: Provenance
    ) -> Outcome:
        def action() -> tuple[list[Provider], Outcome]:
            provider = self.provider(provider_ref)
            provider.change_status(status, effective_on, prov)
            return [provider], {"provider": provider_ref, "version": provider.version}

        args = {"ref": provider_ref, "status": status, "on": effective_on}
        return self.run_command("change_provider_status", args, prov, action)

    def establish_pooled_fund(
        self,
        council: str,
        fund_ref: str,
        partners: tuple[str, ...],
        effective_on: date,
        prov: Provenance,
    ) -> Outcome:
        def action() -> tuple[list[PooledFund], Outcome]:
            self.council(council)
            if self.exists(pooled_fund_id(council, fund_ref)):
                raise AlreadyExistsError("that pooled fund exists", pooled_fund=fund_ref)
            pool = PooledFund.establish(council, fund_ref, partners, effective_on, prov)
            return [pool], {"pooled_fund": fund_ref, "version": pool.version}

        args = {
            "council": council,
            "fund": fund_ref,
            "partners": list(partners),
            "on": effective_on,
        }
        return self.run_command("establish_pooled_fund", args, prov, action)

    def receive_pool_contribution(
        self,
        council: str,
        fund_ref: str,
        partner: str,
        amount_pence: int,
        effective_on: date,
        prov: Provenance,
    ) -> Outcome:
        def action() -> tuple[list[PooledFund], Outcome]:
            pool = self.pooled_fund(council, fund_ref)
            pool.receive_contribution(partner, amount_pence, effective_on, prov)
            return [pool], {"pooled_fund": fund_ref, "version": pool.version}

        args = {
            "council": council,
            "fund": fund_ref,
            "partner": partner,
            "pence": amount_pence,
            "on": effective_on,
        }
        return self.run_command("receive_pool_contribution", args, prov, action)
