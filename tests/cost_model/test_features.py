"""IR and config features are deterministic and count what they claim to count."""

import numpy as np

from autotune.cost_model import config_features, ir_features, vectorize

IR = """
define double @sum(ptr %a, i64 %n) {
entry:
  %acc = alloca double
  store double 0.0, ptr %acc
  br label %cond
cond:
  %iv = phi i64 [0, %entry], [%iv2, %body]
  %c = icmp slt i64 %iv, %n
  br i1 %c, label %body, label %exit
body:
  %p = getelementptr double, ptr %a, i64 %iv
  %x = load double, ptr %p
  %s = load double, ptr %acc
  %s2 = fadd double %s, %x
  store double %s2, ptr %acc
  %iv2 = add i64 %iv, 1
  br label %cond
exit:
  %r = load double, ptr %acc
  ret double %r
}
"""


def test_ir_features_count_opcodes_and_blocks():
    f = ir_features(IR)
    assert f["ir.load"] == 3 and f["ir.store"] == 2 and f["ir.fadd"] == 1
    assert f["ir.br"] == 3 and f["ir.ret"] == 1 and f["ir.phi"] == 1
    assert f["ir.blocks"] == 4 and f["ir.functions"] == 1
    assert f["ir.total"] == sum(
        v for k, v in f.items() if k not in ("ir.total", "ir.blocks", "ir.functions")
    )


def test_config_features_encode_every_kind_of_value():
    f = config_features({"a": 3, "b": True, "mode": "after", "seq": ["sroa", "sroa", "licm"]})
    assert f == {
        "a": 3.0,
        "b": 1.0,
        "mode=after": 1.0,
        "seq.len": 3.0,
        "seq:sroa": 2.0,
        "seq:licm": 1.0,
    }


def test_vectorize_aligns_columns_and_fills_zeros():
    X, cols = vectorize([{"a": 1.0}, {"b": 2.0}])
    assert cols == ["a", "b"]
    np.testing.assert_array_equal(X, [[1.0, 0.0], [0.0, 2.0]])
    X2, _ = vectorize([{"b": 5.0}], cols)
    np.testing.assert_array_equal(X2, [[0.0, 5.0]])
