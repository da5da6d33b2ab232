from governance.core.masking import mask_id_number, mask_name, mask_phone


def test_mobile_number_keeps_prefix_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_landline_keeps_two_at_each_end():
    assert mask_phone("0754-8812345") == "07********45"


def test_short_or_empty_phone_is_masked_not_crashed():
    assert mask_phone("") == ""
    assert mask_phone("12") == "12"
    assert mask_phone("12345") == "***45"


def test_id_number_keeps_region_and_last_four():
    assert mask_id_number("44050719900101123X") == "440507********123X"


def test_name_keeps_family_name():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
