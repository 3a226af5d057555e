"""Study configuration: JSON-Schema validation with defaults, and messages that name the bad key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

# jsonschema registers a checker for every string format whose optional package imports; rfc3987_syntax
# (the "iri" formats) builds a parser grammar on import, 1.4 s of every Snakemake start-up and dry run. The
# study schema uses no string formats: an entry of None makes that import fail, and jsonschema skips it.
sys.modules.setdefault("rfc3987_syntax", None)
from jsonschema import Draft202012Validator, validators  # noqa: E402
from jsonschema.exceptions import ValidationError, best_match  # noqa: E402

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A study configuration that cannot run; the message names the key and what is allowed."""


def key_path(parts: list[Any] | tuple[Any, ...]) -> str:
    """Dotted key path, list positions in brackets: slabs.wz.supercell[0]."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def _with_defaults(validator_class: type) -> type:
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    # copy: a mutable default must not be shared between config entries
                    instance[name] = yaml.safe_load(yaml.safe_dump(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _describe(error: ValidationError) -> str:
    where = key_path(list(error.absolute_path))
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and schema.get("additionalProperties") is False:
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"{where}: unknown key(s) {unknown} (allowed: {', '.join(allowed)})"
    parent = error.parent
    if parent is not None and parent.validator in ("oneOf", "anyOf") and "description" in parent.schema:
        # an alternative of a oneOf (e.g. a keyword or a list): the description lists them all
        return f"{where}: {error.instance!r} is not allowed ({parent.schema['description'].strip()})"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{where}: {error.instance!r} is not allowed (allowed: {allowed})"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "oneOf":
        return f"{where}: {error.instance!r} is not valid ({schema.get('description', 'see the schema')})"
    return f"{where}: {error.message}"


def validate_config(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate a study config against the schema, filling in the schema's defaults in place.

    Raises:
        ConfigError: naming the first offending key path and what it allows.
    """
    _check_contradictions(config)
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _with_defaults(Draft202012Validator)(schema)
    error = best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(f"invalid config: {_describe(error)}")
    _check_optional_packages(config)
    return config


def _check_contradictions(config: dict) -> None:
    """Keys that say the same thing twice are refused (checked before the schema fills in defaults)."""
    interfaces = config.get("interfaces") or {}
    both = sorted({"rocksalt_monolayers", "zincblende_monolayers"} & set(interfaces))
    if "stacks" in interfaces and both:
        raise ConfigError(
            f"invalid config: interfaces.stacks: contradicts interfaces.{' and '.join(both)} "
            "(allowed: either stacks, a list of [n_rs, n_zb], or rocksalt_monolayers x zincblende_monolayers)"
        )
    if "bulk_kpoint_length_a" in (config.get("calculator") or {}):
        raise ConfigError(
            "invalid config: calculator.bulk_kpoint_length_a: not allowed any more: every structure is "
            "sampled with one k-point density, calculator.kpoint_length_a, so that no energy difference "
            "subtracts a bulk reference sampled more densely than its slab (allowed: kpoint_length_a only)"
        )
    vacancy_species = (config.get("particle_vacancies") or {}).get("species")
    if vacancy_species and (config.get("particle_relaxation") or {}).get("model", "none") == "none":
        raise ConfigError(
            "invalid config: particle_vacancies.species: needs particle_relaxation.model "
            "(allowed: chgnet or sevenn; the vacancies are made in the relaxed particles)"
        )


def _deep_update(base: dict, extra: dict) -> dict:
    """`base` with `extra` merged in, nested mappings key by key (lists and values replaced)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_update(merged[key], value)
        else:
            merged[key] = value
    return merged


def compose_config(default_path: str | Path, config_files: list[str | Path] | tuple = (),
                   overrides: dict | None = None) -> dict:  # fmt: skip
    """The study a user asked for, before validation.

    No --configfile: the default study. Otherwise the first file that is not an overlay is the whole
    study (a default key it leaves out stays out), unless it names its base (`base: config/config.yaml`),
    which it then extends; files marked `overlay: true` (config/screening.yaml) are merged over the study,
    in order; command-line --config values come last. Nested mappings merge key by key, lists are replaced.

    Raises:
        ConfigError: two whole studies, or a file that is neither a study (no bulk), a based one nor an
            overlay.
    """
    study: dict | None = None
    study_file = None
    overlays = []
    for path in config_files:
        data = yaml.safe_load(Path(path).read_text()) or {}
        if data.pop("overlay", False):
            overlays.append(data)
            continue
        if study is not None:
            raise ConfigError(
                f"invalid config: {path}: a second whole study after {study_file} (allowed: one study; "
                "mark files that only change some keys with `overlay: true`)"
            )
        base = data.pop("base", None)
        if base is not None:
            base_path = Path(base)
            if not base_path.is_file():
                raise ConfigError(f"invalid config: {path}: base: {base} does not exist")
            data = _deep_update(compose_config(default_path, [base_path]), data)
        elif "bulk" not in data:
            raise ConfigError(
                f"invalid config: {path}: not a whole study (it has no bulk) (allowed: add `base: "
                f"{default_path}` "
                "to extend a study, or `overlay: true` to change keys of the study given before it)"
            )
        study, study_file = data, path
    if study is None:
        study = yaml.safe_load(Path(default_path).read_text()) or {}
    for overlay in overlays:
        study = _deep_update(study, overlay)
    return _deep_update(study, dict(overrides or {}))


def _check_optional_packages(config: dict) -> None:
    """A machine-learned potential asked for must be installed (an optional extra)."""
    from nanophase.calculators.mlip_calc import INSTALL_HINT, mlip_available

    calculator = config.get("calculator", {})
    wanted = (
        {"calculator.backend": calculator.get("mlip_model", "chgnet")}
        if calculator.get("backend") == "mlip"
        else {}
    )
    if calculator.get("prerelax", "none") not in ("none", "auto"):  # auto falls back to a cold start
        wanted["calculator.prerelax"] = calculator["prerelax"]
    for key, slab in config.get("slabs", {}).items():
        model = slab.get("vacancies", {}).get("rank_with", "none")
        if model != "none":
            wanted[f"slabs.{key}.vacancies.rank_with"] = model
    particle_model = config.get("particle_relaxation", {}).get("model", "none")
    if particle_model != "none":
        wanted["particle_relaxation.model"] = particle_model
    for key, model in wanted.items():
        if not mlip_available(model):
            raise ConfigError(
                f"invalid config: {key}: the {model} potential is not installed; {INSTALL_HINT}"
            )


def load_config(path: str | Path, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Read a YAML config file and validate it (defaults filled in)."""
    config = yaml.safe_load(Path(path).read_text()) or {}
    return validate_config(config, schema_path)


def write_config(config: dict, path: str | Path) -> None:
    """The effective study config as YAML (keys in the order given), written atomically."""
    from nanophase.safe_write import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(config, sort_keys=False))
