"""Every feature ID of SOE_SPEC's checklist is named by a test (``python -m
tests.feature_ids`` lists those that are not)."""

from .feature_ids import feature_ids, named_in, unnamed


def test_every_feature_id_of_the_spec_is_named_by_a_test():
    assert len(feature_ids()) == 213
    assert unnamed() == []


def test_a_test_names_features_in_its_name_and_its_docstring():
    assert named_in("test_f_tool_4_inline_parameters") == {"F-TOOL-4"}
    assert named_in("test_x\nF-CHILD-8/9 and F-EXEC-3..5") == {
        "F-CHILD-8", "F-CHILD-9", "F-EXEC-3", "F-EXEC-4", "F-EXEC-5",
    }  # fmt: skip
    assert named_in("test_f_tool_40_x") == {"F-TOOL-40"}
