"""Auto-mapping on name -> shape tables: structure, names and order decide together."""

from __future__ import annotations

import random

from rlblocks.utils.migration.hints import ModelHints, name_hints, role_ordinal
from rlblocks.utils.migration.matching import match_tables
from rlblocks.utils.migration.structure import group_blocks, group_units, sibling_key, unwrapped_names

POLICY = ModelHints(families=frozenset({"policy"}), lone_parts=frozenset({"std"}))
VALUE = ModelHints(families=frozenset({"value"}))

MLP_POLICY = {
    "log_std_parameter": (1,),
    "net.0.weight": (32, 4),
    "net.0.bias": (32,),
    "net.2.weight": (32, 32),
    "net.2.bias": (32,),
    "net.4.weight": (1, 32),
    "net.4.bias": (1,),
}
MLP_VALUE = {name: shape for name, shape in MLP_POLICY.items() if name != "log_std_parameter"}

RL_GAMES_CARTPOLE = {  # the listing of the skrl documentation's "ambiguous" example, in file order
    "value_mean_std.running_mean": (1,),
    "value_mean_std.running_var": (1,),
    "value_mean_std.count": (),
    "running_mean_std.running_mean": (4,),
    "running_mean_std.running_var": (4,),
    "running_mean_std.count": (),
    "a2c_network.sigma": (1,),
    "a2c_network.actor_mlp.0.weight": (32, 4),
    "a2c_network.actor_mlp.0.bias": (32,),
    "a2c_network.actor_mlp.2.weight": (32, 32),
    "a2c_network.actor_mlp.2.bias": (32,),
    "a2c_network.value.weight": (1, 32),
    "a2c_network.value.bias": (1,),
    "a2c_network.mu.weight": (1, 32),
    "a2c_network.mu.bias": (1,),
}

SB3_PPO = {
    "log_std": (1,),
    "mlp_extractor.policy_net.0.weight": (32, 4),
    "mlp_extractor.policy_net.0.bias": (32,),
    "mlp_extractor.policy_net.2.weight": (32, 32),
    "mlp_extractor.policy_net.2.bias": (32,),
    "mlp_extractor.value_net.0.weight": (32, 4),
    "mlp_extractor.value_net.0.bias": (32,),
    "mlp_extractor.value_net.2.weight": (32, 32),
    "mlp_extractor.value_net.2.bias": (32,),
    "action_net.weight": (1, 32),
    "action_net.bias": (1,),
    "value_net.weight": (1, 32),
    "value_net.bias": (1,),
}


def critic_table(prefix: str) -> dict:
    return {
        f"{prefix}.0.weight": (32, 5),
        f"{prefix}.0.bias": (32,),
        f"{prefix}.2.weight": (32, 32),
        f"{prefix}.2.bias": (32,),
        f"{prefix}.4.weight": (1, 32),
        f"{prefix}.4.bias": (1,),
    }


SB3_SAC_CRITICS = {
    **critic_table("critic.qf0"),
    **critic_table("critic.qf1"),
    **critic_table("critic_target.qf0"),
    **critic_table("critic_target.qf1"),
}
MLP_CRITIC = {name.replace("critic.qf0", "net"): shape for name, shape in critic_table("critic.qf0").items()}


def test_skrl_documentation_example_resolves_without_name_map():
    """skrl 0.10 warned 5 'Ambiguous match' and 2 'Multiple use' here and loaded the last candidates."""
    matching = match_tables(MLP_POLICY, RL_GAMES_CARTPOLE, POLICY)
    assert matching.pairs == {
        "log_std_parameter": "a2c_network.sigma",
        "net.0.weight": "a2c_network.actor_mlp.0.weight",
        "net.0.bias": "a2c_network.actor_mlp.0.bias",
        "net.2.weight": "a2c_network.actor_mlp.2.weight",
        "net.2.bias": "a2c_network.actor_mlp.2.bias",
        "net.4.weight": "a2c_network.mu.weight",
        "net.4.bias": "a2c_network.mu.bias",
    }
    assert matching.ambiguous == {} and matching.missing == {}


def test_value_model_takes_the_value_head_of_a_shared_trunk():
    matching = match_tables(MLP_VALUE, RL_GAMES_CARTPOLE, VALUE)
    assert matching.pairs["net.0.weight"] == "a2c_network.actor_mlp.0.weight"
    assert matching.pairs["net.4.weight"] == "a2c_network.value.weight"


def test_value_model_prefers_a_separate_critic_trunk():
    source = dict(RL_GAMES_CARTPOLE)
    source.update({"a2c_network.critic_mlp.0.weight": (32, 4), "a2c_network.critic_mlp.0.bias": (32,)})
    source.update({"a2c_network.critic_mlp.2.weight": (32, 32), "a2c_network.critic_mlp.2.bias": (32,)})
    value = match_tables(MLP_VALUE, source, VALUE).pairs
    policy = match_tables(MLP_POLICY, source, POLICY).pairs
    assert [value[f"net.{i}.weight"] for i in (0, 2, 4)] == [
        "a2c_network.critic_mlp.0.weight",
        "a2c_network.critic_mlp.2.weight",
        "a2c_network.value.weight",
    ]
    assert [policy[f"net.{i}.weight"] for i in (0, 2, 4)] == [
        "a2c_network.actor_mlp.0.weight",
        "a2c_network.actor_mlp.2.weight",
        "a2c_network.mu.weight",
    ]


def test_file_order_does_not_matter():
    names = list(SB3_PPO)
    random.Random(0).shuffle(names)
    shuffled = {name: SB3_PPO[name] for name in names}
    for table in (SB3_PPO, shuffled):
        assert match_tables(MLP_POLICY, table, POLICY).pairs == {
            "log_std_parameter": "log_std",
            "net.0.weight": "mlp_extractor.policy_net.0.weight",
            "net.0.bias": "mlp_extractor.policy_net.0.bias",
            "net.2.weight": "mlp_extractor.policy_net.2.weight",
            "net.2.bias": "mlp_extractor.policy_net.2.bias",
            "net.4.weight": "action_net.weight",
            "net.4.bias": "action_net.bias",
        }
        value = match_tables(MLP_VALUE, table, VALUE).pairs
        assert value["net.0.weight"] == "mlp_extractor.value_net.0.weight"
        assert value["net.4.weight"] == "value_net.weight"


def test_parallel_critics_follow_the_role_number_and_targets_need_a_target_role():
    def chosen(hints):
        return match_tables(MLP_CRITIC, SB3_SAC_CRITICS, hints).pairs["net.0.weight"]

    assert chosen(VALUE) == "critic.qf0.0.weight"
    assert chosen(ModelHints(frozenset({"value"}), ordinal=1)) == "critic.qf0.0.weight"
    assert chosen(ModelHints(frozenset({"value"}), ordinal=2)) == "critic.qf1.0.weight"
    assert chosen(ModelHints(frozenset({"value"}), is_target=True)) == "critic_target.qf0.0.weight"
    assert chosen(ModelHints(frozenset({"value"}), is_target=True, ordinal=2)) == "critic_target.qf1.0.weight"


def test_equally_good_unrelated_sources_are_ambiguous_unless_their_values_are_equal():
    current = {"net.0.weight": (4, 4), "net.0.bias": (4,)}
    source = {"encoder.weight": (4, 4), "encoder.bias": (4,), "decoder.weight": (4, 4), "decoder.bias": (4,)}
    matching = match_tables(current, source, ModelHints(frozenset()))
    assert matching.pairs == {}
    assert matching.ambiguous == {
        "net.0.weight": ["encoder.weight", "decoder.weight"],
        "net.0.bias": ["encoder.bias", "decoder.bias"],
    }
    same = match_tables(current, source, ModelHints(frozenset()), equal=lambda a, b: True)
    assert same.pairs == {"net.0.weight": "encoder.weight", "net.0.bias": "encoder.bias"}


def test_a_shared_trunk_cannot_take_one_of_two_separate_trunks():
    """A shared actor-critic has no hint saying which SB3 trunk its single trunk should be."""
    current = {"net.0.weight": (32, 4), "net.0.bias": (32,), "net.2.weight": (32, 32), "net.2.bias": (32,)}
    current.update({"mean_layer.weight": (1, 32), "mean_layer.bias": (1,)})
    current.update({"value_layer.weight": (1, 32), "value_layer.bias": (1,)})
    both = ModelHints(frozenset({"policy", "value"}))
    matching = match_tables(current, SB3_PPO, both)
    assert sorted(matching.ambiguous) == ["net.0.bias", "net.0.weight", "net.2.bias", "net.2.weight"]
    assert matching.pairs == {
        "mean_layer.weight": "action_net.weight",
        "mean_layer.bias": "action_net.bias",
        "value_layer.weight": "value_net.weight",
        "value_layer.bias": "value_net.bias",
    }
    pinned = match_tables(current, SB3_PPO, both, pins={"net.0.weight": "mlp_extractor.policy_net.0.weight"})
    assert pinned.pairs["net.2.weight"] == "mlp_extractor.policy_net.2.weight"


def test_layers_registered_one_by_one_follow_the_chain():
    """Three 64x64 layers of one source block go, in order, to three separately named layers."""
    source = {f"pi.{index}.weight": (64, 64) for index in (0, 2, 4)} | {"pi.6.weight": (1, 64)}
    current = {
        "first.weight": (64, 64),
        "second.weight": (64, 64),
        "third.weight": (64, 64),
        "head.weight": (1, 64),
    }
    assert match_tables(current, source, POLICY).pairs == {
        "first.weight": "pi.0.weight",
        "second.weight": "pi.2.weight",
        "third.weight": "pi.4.weight",
        "head.weight": "pi.6.weight",
    }


def test_a_deeper_model_than_the_source_misses_with_a_reason():
    current = dict(MLP_VALUE, **{"net.6.weight": (1, 32), "net.6.bias": (1,)})
    current["net.4.weight"], current["net.4.bias"] = (32, 32), (32,)
    matching = match_tables(current, SB3_PPO, VALUE)
    assert matching.pairs == {}
    assert (
        "in no chain of source layers that lines up with net.0 -> net.2 -> net.4 -> net.6"
        in (matching.missing["net.0.weight"])
    )


def test_a_stray_layer_does_not_take_a_piece_from_the_middle_of_a_source_network():
    current = dict(MLP_POLICY, **{"extra.weight": (32, 32), "extra.bias": (32,)})
    matching = match_tables(current, SB3_PPO, POLICY)
    assert "extra.weight" in matching.missing and "net.2.weight" in matching.pairs


def test_exact_and_nested_names_win():
    own = match_tables(MLP_POLICY, MLP_POLICY, ModelHints(frozenset()))
    assert own.pairs == {name: name for name in MLP_POLICY}
    agent = {f"policy.{name}": shape for name, shape in MLP_POLICY.items()}
    agent.update({f"target_policy.{name}": shape for name, shape in MLP_POLICY.items()})
    agent.update({f"value.{name}": shape for name, shape in MLP_VALUE.items()})
    assert match_tables(MLP_POLICY, agent, POLICY).pairs == {name: f"policy.{name}" for name in MLP_POLICY}
    assert match_tables(MLP_VALUE, agent, VALUE).pairs == {name: f"value.{name}" for name in MLP_VALUE}


def test_state_dependent_log_std_head_does_not_fit_a_log_std_parameter():
    """SB3 SAC's log-std is a Linear head: a model with a log-std parameter cannot hold it."""
    source = {"actor.latent_pi.0.weight": (32, 4), "actor.latent_pi.2.weight": (32, 32)}
    source.update({"actor.mu.weight": (1, 32), "actor.log_std.weight": (1, 32)})
    current = {
        "log_std_parameter": (1,),
        "net.0.weight": (32, 4),
        "net.2.weight": (32, 32),
        "net.4.weight": (1, 32),
    }
    matching = match_tables(current, source, POLICY)
    assert matching.pairs["net.4.weight"] == "actor.mu.weight"
    assert matching.missing == {"log_std_parameter": "no source tensor of this kind and shape"}


# ---------------------------------------------------------------- building blocks
def test_units_blocks_and_lone_tensors():
    units = {unit.path: unit for unit in group_units(RL_GAMES_CARTPOLE)}
    assert units["a2c_network.sigma"].is_lone
    assert units["a2c_network.actor_mlp.2"].leaves == ("weight", "bias")
    assert units["value_mean_std"].leaves == ("running_mean", "running_var", "count")
    blocks = [[unit.path for unit in block] for block in group_blocks(list(units.values()))]
    assert blocks == [
        ["value_mean_std"],
        ["running_mean_std"],
        ["a2c_network.actor_mlp.0", "a2c_network.actor_mlp.2"],
        ["a2c_network.value"],
        ["a2c_network.mu"],
    ]


def test_wrapper_prefixes_are_stripped():
    assert unwrapped_names(["_orig_mod.a2c_network.mu.weight", "_orig_mod.a2c_network.sigma"]) == {
        "a2c_network.mu.weight": "_orig_mod.a2c_network.mu.weight",
        "a2c_network.sigma": "_orig_mod.a2c_network.sigma",
    }
    assert unwrapped_names(["module.net.0.weight", "module.net.0.bias"]) == {
        "net.0.weight": "module.net.0.weight",
        "net.0.bias": "module.net.0.bias",
    }
    assert (
        unwrapped_names(["module.net.0.weight", "head.weight"])["module.net.0.weight"]
        == "module.net.0.weight"
    )


def test_name_hints_and_role_numbers():
    assert name_hints("critic_target.qf1").families == {"value"} and name_hints("critic_target.qf1").is_target
    assert name_hints("mlp_extractor.policy_net").families == {"policy"}
    assert name_hints("a2c_network.sigma").parts == {"std"}
    assert name_hints("action_net").parts == {"mean"}
    assert name_hints("net").families == frozenset()
    assert (role_ordinal("critic_2"), role_ordinal("target_critic_1"), role_ordinal("value")) == (2, 1, None)
    assert sibling_key("critic.qf0.2") == sibling_key("critic.qf1.2") == "critic.qf#.#"


def test_a_source_of_many_interchangeable_layers_is_reported_not_guessed():
    source = {f"layer{index}.weight": (64, 64) for index in range(40)}
    current = {f"net.{index}.weight": (64, 64) for index in range(0, 12, 2)}
    matching = match_tables(current, source, ModelHints(frozenset()))
    assert matching.pairs == {}
    assert set(matching.missing.values()) == {"too many source chains fit it; choose with name_map"}
