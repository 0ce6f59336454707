"""The model catalog: which Ollama model serves which role, and how to name it.

In: the ``models`` table of the settings (role -> ``ModelSpec``). Out: pure look-ups —
a role for a task type, a spec for a model name or short alias, the fallback chain.
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zero_llm.errors import ConfigurationError, UnknownModelError

__all__ = ["DEFAULT_MODELS", "Catalog", "ModelSpec"]


class ModelSpec(BaseModel):
    """One model of the catalog and how zero_llm runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Ollama model name with its tag, e.g. ``llama3.1:8b``."""
    tasks: tuple[str, ...] = ()
    """Task types routed to this model (matched case-insensitively)."""
    aliases: tuple[str, ...] = ()
    """Short names accepted wherever a model name is, e.g. ``llama``."""
    keep_alive: str | int = "30m"
    """How long Ollama keeps the model in memory after a request (Ollama's syntax)."""
    think: bool = False
    """Ask for the model's thinking apart from its answer (reasoning models)."""
    context_window: int | None = Field(default=None, gt=0)
    """A ceiling on ``num_ctx`` for this model; ``None`` uses the global window."""
    num_predict: int | None = Field(default=None, gt=0)
    """Cap on generated tokens per answer; ``None`` leaves Ollama's default."""
    temperature: float | None = Field(default=None, ge=0)
    """Sampling temperature; ``None`` leaves the model's default."""
    fallbacks: tuple[str, ...] = ()
    """Roles or model names to try, in order, when this model fails for good."""
    fallback: bool = True
    """False: never answer with the fallbacks; fail with this model's own error instead."""
    tool_model: str | None = None
    """A tool-capable role or model that handles requests with tools when this one cannot."""
    tool_policy: Literal["structured", "tool_model", "gather_then_answer"] = "structured"
    """With tools bound and a model lacking them: ``structured`` (the default) lets this
    model call the tools itself, its answer constrained by Ollama's ``format`` to "tool
    calls or a final answer" (``zero_llm.tool_schema``: one call per step, no second
    model); ``tool_model`` lets the tool model answer everything; ``gather_then_answer``
    lets the tool model make the tool calls and this model write the final answer from
    the whole conversation, tool results included."""

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a model name cannot be empty")
        return value.strip()


DEFAULT_MODELS: dict[str, ModelSpec] = {
    "reasoning": ModelSpec(
        name="deepseek-r1:32b",
        tasks=("trading", "analysis", "reasoning"),
        aliases=("deepseek", "deepseek-r1", "r1"),
        think=True,
        fallbacks=("quick",),
        tool_model="quick",
    ),
    "code": ModelSpec(
        name="qwen2.5-coder:32b",
        tasks=("code", "coding", "programming"),
        aliases=("qwen", "qwen-coder", "qwen2.5-coder", "coder"),
        fallbacks=("quick",),
    ),
    "quick": ModelSpec(
        name="llama3.1:8b",
        tasks=("quick", "chat"),
        aliases=("llama", "llama3.1", "llama3"),
    ),
}
"""ZERO's three models, by role."""


@dataclass(frozen=True)
class Catalog:
    """Pure look-ups over the configured models.

    Args:
        models: role -> spec.
        default_role: the role that answers any task no other role claims.
    """

    models: Mapping[str, ModelSpec]
    default_role: str
    _task_to_role: dict[str, str] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, str] = field(init=False, repr=False, compare=False)
    _adopted: dict[str, ModelSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check that the catalog is consistent and build its look-up tables."""
        if not self.models:
            raise ConfigurationError("the model catalog is empty: configure at least one model")
        if self.default_role not in self.models:
            from zero_llm.settings_check import did_you_mean

            raise ConfigurationError(
                f"default_role {self.default_role!r} is not a configured role "
                f"(roles: {', '.join(sorted(self.models))})"
                + did_you_mean(self.default_role, self.models)
            )
        task_to_role: dict[str, str] = {}
        by_name: dict[str, str] = {}
        for role, spec in self.models.items():
            for task in spec.tasks:
                key = task.casefold()
                if key in task_to_role and task_to_role[key] != role:
                    raise ConfigurationError(
                        f"task {task!r} is claimed by both {task_to_role[key]!r} and {role!r}"
                    )
                task_to_role[key] = role
            for key in (role, spec.name, *spec.aliases):
                by_name.setdefault(key.casefold(), role)
            if ":" not in spec.name:
                by_name.setdefault(f"{spec.name}:latest".casefold(), role)
        from zero_llm.settings_check import did_you_mean

        for role, spec in self.models.items():
            if spec.tool_model is not None and spec.tool_model.casefold() not in by_name:
                raise ConfigurationError(
                    f"tool_model {spec.tool_model!r} of role {role!r} is not a configured "
                    "role or model" + did_you_mean(spec.tool_model, by_name)
                )
            for target in spec.fallbacks:
                if target.casefold() not in by_name:
                    raise ConfigurationError(
                        f"fallback {target!r} of role {role!r} is not a configured role or "
                        "model" + did_you_mean(target, by_name)
                    )
        object.__setattr__(self, "_task_to_role", task_to_role)
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_adopted", {})

    @property
    def roles(self) -> tuple[str, ...]:
        """All configured roles, in catalog order."""
        return tuple(self.models)

    def role_for_task(self, task: str) -> str | None:
        """Return the role that claims ``task`` (case-insensitive), or None."""
        return self._task_to_role.get(task.strip().casefold())

    def find_role(self, name: str) -> str | None:
        """Return the role for a model name, short alias or role name, or None."""
        return self._by_name.get(name.strip().casefold())

    def known_names(self) -> list[str]:
        """Every name the catalog answers to: roles, model names, aliases, adopted models."""
        return [*self._by_name, *self._adopted]

    def adopt(self, spec: ModelSpec) -> ModelSpec:
        """Answer to ``spec.name`` from now on (a model the server has, outside the roles)."""
        key = spec.name.casefold()
        if self.find_role(spec.name) is None:
            self._adopted.setdefault(key, spec)
            if spec.name.endswith(":latest"):
                self._adopted.setdefault(key.removesuffix(":latest"), self._adopted[key])
        return self.resolve(spec.name)

    def resolve(self, name: str) -> ModelSpec:
        """Return the spec for a model name, alias or role; raise UnknownModelError if none."""
        role = self.find_role(name)
        if role is None and (adopted := self._adopted.get(name.strip().casefold())):
            return adopted
        if role is None:
            known = tuple(spec.name for spec in self.models.values())
            raise UnknownModelError(
                f"model {name!r} is not in the catalog (known: {', '.join(known)}); "
                "add it to the settings' models table or use one of those names",
                model=name,
                known=known,
            )
        return self.models[role]

    def fallback_chain(self, spec: ModelSpec) -> list[ModelSpec]:
        """Return the models to try after ``spec`` fails, transitively, without repeats."""
        chain: list[ModelSpec] = []
        seen = {spec.name}
        queue: list[str] = list(spec.fallbacks)
        while queue:
            target = self.resolve(queue.pop(0))
            if target.name in seen:
                continue
            seen.add(target.name)
            chain.append(target)
            queue.extend(target.fallbacks)
        return chain
