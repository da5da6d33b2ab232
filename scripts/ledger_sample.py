"""Write fixtures/ledger_tasks_sample.xlsx: a small task breakdown in the import's column layout
(governance/ledgers/importer.py), naming units of the demo city by code and by name."""

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HEADER = ["编号", "标题", "说明", "牵头领导", "牵头单位", "责任单位", "完成时限", "填报周期", "权重"]
ROWS = [
    ["1", "健全市域社会治理领导体制", "纳入党委政府重要议事日程", "陈志强", "440500-SF", "", date(2026, 12, 31), "", 2],
    ["1.1", "建立综治中心实体化运行机制", "", "", "", "440502-SF、440503-SF", date(2026, 6, 30), "每月", 1],
    ["1.2", "完善平安建设考核评价体系", "", "", "", "440500-GA", date(2026, 12, 31), "每季度", 1],
    ["2", "推进网格化服务管理", "", "林建华", "440500-CG", "", None, "每月", 3],
    ["2.1", "科学划分网格", "", "", "", "", None, "", 1],
    ["2.1.1", "完成全市网格划分并编码", "", "", "", "440502-CG；440503-CG", date(2026, 3, 31), "一次", 1],
    ["2.1.2", "网格员配备到位", "", "", "", "440502-CG", "2026/9/30", "每季度", 2],
    ["2.2", "网格事件闭环处置", "", "", "", "440500-CG, 440500-GA", "2027年6月30日", "每月", 1],
    ["3", "完善矛盾纠纷多元化解机制", "", "黄晓燕", "440500-SF", "", date(2027, 12, 31), "每季度", 2],
    ["3.1", "建成诉前调解中心", "", "", "", "440502-FY", date(2026, 10, 31), "一次", 1],
    ["3.2", "个人品牌调解室培育", "", "", "", "440502-SF、440503-SF", None, "", 1],
]


def main() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "任务分解"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in ROWS:
        sheet.append(row)
    for column, width in zip("ABCDEFGHI", [8, 36, 36, 10, 14, 30, 14, 10, 8], strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = Path(__file__).resolve().parent.parent / "fixtures" / "ledger_tasks_sample.xlsx"
    workbook.save(out)
    print(out)


if __name__ == "__main__":
    main()
