"""A realistic, fictional 鹿泉区 to run campaigns on (``ssj example-data``).

Departments and inspection items are hand-written from the member units a
district 双随机 leading group really has and their 随机抽查事项清单; officers
and enterprises are generated from a seed, deterministically, with the mix a
district export shows: mostly 内资企业 and 个体工商户, a few co-operatives and
foreign-invested firms, registered capital clustered on round numbers, some
revoked or deregistered. N = 30,000 gives roughly 2,400 enterprises matching the
seed campaign's criteria (内资, 存续/在业, 500–1000 万元, established by 2019-11-27).
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from workflow import uscc
from workflow.files.atomic import atomic_file, write_atomically

DIVISION = "130110"  # 石家庄市鹿泉区
DRAW_DATE = date(2019, 11, 27)

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国志红玉兰海波宁斌浩凯鹏飞晨阳雪梅俊峰立新文博晓东亮颖琳欣然子涵宇轩"
_TRADE = "华鑫泰恒盛隆兴源达嘉宏信诚瑞丰祥和康元鼎博远启航新创安顺通鹏程德润天合金石永利正大中科泉鹿冀"
_TOWNS = ("获鹿镇", "铜冶镇", "寺家庄镇", "上庄镇", "李村镇", "宜安镇", "黄壁庄镇", "大河镇", "山尹村镇", "白鹿泉乡", "上寨乡", "石井乡")
_ROADS = ("向阳北大街", "石获南路", "海山大街", "新华街", "镇府路", "工业路", "胜利西街", "龙泉路", "通港大街", "鹿岛大道")
_INDUSTRIES = (
    ("制造业", "机械制造"), ("制造业", "建材"), ("制造业", "塑料制品"), ("制造业", "食品加工"),
    ("批发和零售业", "商贸"), ("批发和零售业", "医药"), ("建筑业", "建筑工程"), ("建筑业", "装饰工程"),
    ("交通运输、仓储和邮政业", "物流"), ("住宿和餐饮业", "餐饮管理"), ("信息传输、软件和信息技术服务业", "网络科技"),
    ("租赁和商务服务业", "企业管理咨询"), ("房地产业", "房地产开发"), ("科学研究和技术服务业", "检测技术"),
    ("农、林、牧、渔业", "农业开发"), ("电力、热力、燃气及水生产和供应业", "热力"),
)
_OFFICER_COUNTS = {"SJ": 18, "SW": 8, "RS": 8, "HB": 8, "YJ": 8, "ZJ": 7, "WJ": 7, "XF": 7, "TJ": 6, "NY": 5}
_SPECIALTIES = {
    "SJ": ("特种设备", "食品安全", "计量", "产品质量"),
    "HB": ("环境监测", "危险废物"),
    "YJ": ("危险化学品", "粉尘防爆"),
    "XF": ("建筑防火",),
    "WJ": ("职业卫生",),
}
_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

ENTERPRISE_HEADER = (
    "统一社会信用代码", "企业名称", "主体类别", "企业类型", "注册资本（万元）", "成立日期", "登记状态",
    "所属区域", "住所", "法定代表人", "联系电话", "行业", "信用风险分类",
)
OFFICER_HEADER = (
    "执法证号", "姓名", "部门代码", "手机号码", "电子邮箱", "执法证有效期至", "状态", "专长", "回避企业",
)


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17")) + f"{rng.randrange(10**9):09d}"


def _capital(rng: random.Random, category: str) -> str:
    if category == "个体工商户":
        return "" if rng.random() < 0.6 else str(rng.choice((1, 2, 3, 5, 10, 20, 30, 50)))
    if category == "农民专业合作社":
        return str(rng.choice((50, 100, 200, 300, 500, 600, 1000, 1200)))
    r = rng.random()
    if r < 0.30:
        value = rng.choice((10, 30, 50, 50, 100)) if rng.random() < 0.6 else round(rng.uniform(3, 100), 2)
    elif r < 0.59:
        value = rng.choice((100, 200, 200, 300, 300, 400)) if rng.random() < 0.6 else round(rng.uniform(100, 499.99), 2)
    elif r < 0.78:
        pick = rng.random()
        if pick < 0.25:
            value = 500
        elif pick < 0.45:
            value = 1000
        elif pick < 0.75:
            value = rng.choice((600, 800, 800, 880, 900))
        else:
            value = round(rng.uniform(500, 1000), 2)
    elif r < 0.93:
        value = rng.choice((1001, 1200, 1500, 2000, 2000, 3000, 5000)) if rng.random() < 0.7 else round(rng.uniform(1000.01, 5000), 2)
    else:
        value = rng.choice((5000, 8000, 10000, 20000, 50000)) if rng.random() < 0.7 else round(rng.uniform(5000, 100000), 1)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _established(rng: random.Random) -> date:
    r = rng.random()
    if r < 0.002:
        return DRAW_DATE
    if r < 0.012:
        return DRAW_DATE + timedelta(days=rng.randint(1, 200))
    return date(1995, 1, 1) + timedelta(days=int((DRAW_DATE - date(1995, 1, 1)).days * rng.random() ** 0.6))


def _unique_code(rng: random.Random, registration: str, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice(_BODY_ALPHABET) for _ in range(8))
        code = uscc.make(registration, DIVISION, body)
        if code not in taken:
            taken.add(code)
            return code


def enterprise_rows(n: int, seed: int):
    """Yield ``n`` enterprise rows (tuples in ``ENTERPRISE_HEADER`` order)."""
    rng = random.Random(f"enterprises:{seed}")
    taken: set[str] = set()
    for _ in range(n):
        r = rng.random()
        category = "内资企业" if r < 0.52 else "个体工商户" if r < 0.90 else "农民专业合作社" if r < 0.96 else "外资企业"
        trade = "".join(rng.choice(_TRADE) for _ in range(2))
        sector, business = rng.choice(_INDUSTRIES)
        if category == "个体工商户":
            registration, name = "92", f"鹿泉区{trade}{business}经营部"
            kind = "个体工商户"
        elif category == "农民专业合作社":
            registration, name = "93", f"石家庄市鹿泉区{trade}种植专业合作社"
            kind, sector = "农民专业合作社", "农、林、牧、渔业"
        elif category == "外资企业":
            registration, name = "91", f"石家庄{trade}{business}有限公司"
            kind = rng.choice(("有限责任公司（中外合资）", "有限责任公司（外国法人独资）", "有限责任公司（台港澳与境内合资）"))
        else:
            registration = "91"
            suffix = "股份有限公司" if rng.random() < 0.05 else "有限公司"
            name = f"石家庄{trade}{business}{suffix}"
            kind = "股份有限公司（非上市、自然人投资或控股）" if suffix == "股份有限公司" else rng.choice(
                ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "有限责任公司（法人独资）")
            )
        s = rng.random()
        status = "存续" if s < 0.80 else "在业" if s < 0.88 else "吊销" if s < 0.94 else "注销" if s < 0.99 else "迁出"
        risk = rng.random()
        credit = "A" if risk < 0.30 else "B" if risk < 0.70 else "C" if risk < 0.78 else "D" if risk < 0.80 else ""
        phone = _mobile(rng) if rng.random() < 0.7 else f"0311-8{rng.randrange(10**7):07d}"
        yield (
            _unique_code(rng, registration, taken),
            name,
            category,
            kind,
            _capital(rng, category),
            _established(rng).isoformat(),
            status,
            "鹿泉区",
            f"石家庄市鹿泉区{rng.choice(_TOWNS)}{rng.choice(_ROADS)}{rng.randint(1, 399)}号",
            _person(rng),
            phone,
            sector,
            credit,
        )


def officer_rows(seed: int, conflict_pool: list[str]):
    """About 80 officers across the district's departments."""
    rng = random.Random(f"officers:{seed}")
    rows = []
    for d_index, (dept, count) in enumerate(_OFFICER_COUNTS.items(), start=1):
        for seq in range(1, count + 1):
            r = rng.random()
            status = "离岗" if r < 0.04 else "在岗"
            valid = date(2019, 12, 10) if 0.04 <= r < 0.07 else date(rng.randint(2021, 2025), rng.randint(1, 12), 28)
            specialties = ""
            if dept in _SPECIALTIES and rng.random() < 0.4:
                specialties = rng.choice(_SPECIALTIES[dept])
            conflicts = ""
            if conflict_pool and rng.random() < 0.08:
                conflicts = "；".join(rng.sample(conflict_pool, k=min(len(conflict_pool), rng.randint(1, 2))))
            rows.append((
                f"130110{d_index:02d}{seq:03d}",
                _person(rng),
                dept,
                _mobile(rng),
                f"{dept.lower()}{seq:03d}@{dept.lower()}.luquan.example",
                valid.isoformat(),
                status,
                specialties,
                conflicts,
            ))
    return rows


def write_example_data(out: Path, enterprises: int, seed: int) -> dict[str, Path]:
    """Write the four directory files (UTF-8 with BOM, so Excel opens them)."""
    out.mkdir(parents=True, exist_ok=True)
    district = resources.files("ssj.examples") / "district"
    paths = {name: out / f"{name}.csv" for name in ("departments", "items", "officers", "enterprises")}
    for name in ("departments", "items"):
        with resources.as_file(district / f"{name}.csv") as src:
            write_atomically(paths[name], lambda handle, src=src: handle.write(Path(src).read_bytes()))
    conflict_pool: list[str] = []
    with atomic_file(paths["enterprises"], "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ENTERPRISE_HEADER)
        for row in enterprise_rows(enterprises, seed):
            writer.writerow(row)
            if len(conflict_pool) < 200 and row[2] == "内资企业" and row[6] in ("存续", "在业"):
                conflict_pool.append(row[0])
    with atomic_file(paths["officers"], "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(OFFICER_HEADER)
        writer.writerows(officer_rows(seed, conflict_pool))
    return paths
