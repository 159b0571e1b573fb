"""The pages' words in English and Chinese, and which language a request gets.

An explicit ``?lang=`` (the switch on every page, kept in a cookie) wins, then the
browser's Accept-Language, then English. Names of stations, lines, call types, reason
codes and shifts come from the hub's file (``name`` and ``names.zh``), not from here.
"""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("en", "zh")
COOKIE = "andon_lang"

TEXTS: dict[str, dict[str, str]] = {
    "board": {"en": "Andon board", "zh": "安灯看板"},
    "inbox": {"en": "Inbox", "zh": "待处理呼叫"},
    "reports": {"en": "Reports", "zh": "报表"},
    # Machines: OEE, downtime, MTBF and MTTR on the reports page, states on the board.
    "oee_by_shift": {"en": "OEE by station and shift", "zh": "各工位各班次 OEE"},
    "oee_definitions": {
        "en": "Planned time: the time inside the shifts minus planned stops. Downtime: "
        "stops of at least the hub's micro_stop_s inside planned time; shorter stops are "
        "micro-stops and count as run time. Availability = run time / planned time; "
        "performance = ideal cycle x parts / run time (above 100 % when the ideal cycle "
        "is wrong); quality = good parts / parts; OEE = their product. Parts count when "
        "the edge read them inside planned time.",
        "zh": "计划时间：班次内时间减去计划停机。停机：计划时间内持续不少于 micro_stop_s "
        "的停止；更短的为短暂停机，计入运行时间。可用率 = 运行时间 / 计划时间；性能 = "
        "理想节拍 × 产量 / 运行时间（理想节拍设置有误时可超过 100 %）；质量 = 良品 / "
        "产量；OEE 为三者之积。产量按边缘读取时刻计入计划时间。",
    },
    "no_machines": {"en": "No machine reported in this period.", "zh": "此期间无设备数据。"},
    "downtime_pareto": {"en": "Downtime by reason", "zh": "按原因的停机时间"},
    "mtbf_mttr": {"en": "MTBF and MTTR from machine faults", "zh": "设备故障的 MTBF 与 MTTR"},
    "oee": {"en": "OEE", "zh": "OEE"},
    "availability": {"en": "Availability", "zh": "可用率"},
    "performance": {"en": "Performance", "zh": "性能"},
    "quality": {"en": "Quality", "zh": "质量"},
    "planned_time": {"en": "Planned time", "zh": "计划时间"},
    "downtime": {"en": "Downtime", "zh": "停机时间"},
    "parts": {"en": "Parts", "zh": "产量"},
    "good_parts": {"en": "Good", "zh": "良品"},
    "micro_stops": {"en": "Micro-stops", "zh": "短暂停机"},
    "no_reason": {"en": "No reason given", "zh": "未填写原因"},
    "reason": {"en": "Reason", "zh": "原因"},
    "faults": {"en": "Faults", "zh": "故障次数"},
    "machine_running": {"en": "Running", "zh": "运行"},
    "machine_idle": {"en": "Idle", "zh": "空闲"},
    "machine_down": {"en": "Down", "zh": "故障停机"},
    "machine_starved": {"en": "Starved", "zh": "缺料"},
    "machine_blocked": {"en": "Blocked", "zh": "堵料"},
    "machine_changeover": {"en": "Changeover", "zh": "换型"},
    "machine_planned_stop": {"en": "Planned stop", "zh": "计划停机"},
    "call": {"en": "Call", "zh": "呼叫"},
    "open_calls": {"en": "Open calls", "zh": "未关闭呼叫"},
    "calls_today": {"en": "Calls today", "zh": "今日呼叫"},
    "median_response": {"en": "Median response", "zh": "响应时间中位数"},
    "idle": {"en": "OK", "zh": "正常"},
    "raised": {"en": "Called", "zh": "已呼叫"},
    "acknowledged": {"en": "On the way", "zh": "已响应"},
    "arrived": {"en": "At the station", "zh": "已到场"},
    "resolved": {"en": "Resolved", "zh": "已解决"},
    "verified": {"en": "Verified", "zh": "已确认"},
    "cancelled": {"en": "Cancelled", "zh": "已取消"},
    "joined": {"en": "Pressed again", "zh": "再次按下"},
    "escalated": {"en": "Escalated", "zh": "已升级通知"},
    "line_stop": {"en": "Line stop commanded", "zh": "已发出停线指令"},
    "by": {"en": "by", "zh": "响应人"},
    "acknowledged_by": {"en": "Acknowledged by", "zh": "响应人"},
    "serial": {"en": "Serial", "zh": "序列号"},
    "lot": {"en": "Lot", "zh": "批次"},
    "reconnecting": {"en": "Connection lost, reconnecting…", "zh": "连接中断，正在重连…"},
    "token": {"en": "Access token", "zh": "访问令牌"},
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_out": {"en": "Sign out", "zh": "退出"},
    "user_name": {"en": "Name", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "sign_in_refused": {"en": "Wrong name or password.", "zh": "用户名或密码错误。"},
    "signed_in_as": {"en": "Signed in as", "zh": "当前用户"},
    "token_refused": {"en": "This token was refused.", "zh": "令牌无效。"},
    "token_switch": {
        "en": "This link carries a different access token from the one this browser uses. "
        "Switch to the link's token?",
        "zh": "此链接携带的访问令牌与本浏览器正在使用的不同。是否切换为链接中的令牌？",
    },
    "token_switch_yes": {"en": "Switch to the link's token", "zh": "切换为链接中的令牌"},
    "token_switch_no": {"en": "Keep the current token", "zh": "保留当前令牌"},
    "acknowledge": {"en": "Acknowledge", "zh": "响应"},
    "arrive": {"en": "Arrived", "zh": "到场"},
    "resolve": {"en": "Resolve", "zh": "解决"},
    "reason_code": {"en": "Reason", "zh": "原因"},
    "note": {"en": "Note", "zh": "备注"},
    "details": {"en": "Details", "zh": "详情"},
    "photos": {"en": "Photos", "zh": "照片"},
    "sound_blocked": {
        "en": "The browser holds the board's sound back: tap here to allow it",
        "zh": "浏览器阻止了看板声音：点击此处开启",
    },
    "photo": {"en": "Photo", "zh": "照片"},
    "take_photo": {"en": "Take a photo", "zh": "拍照"},
    "photo_sending": {"en": "Sending the photo…", "zh": "正在上传照片…"},
    "no_open_calls": {"en": "No open calls.", "zh": "没有未关闭的呼叫。"},
    "not_open": {"en": "This call is no longer open.", "zh": "该呼叫已关闭。"},
    "station": {"en": "Station", "zh": "工位"},
    "line": {"en": "Line", "zh": "产线"},
    "call_type": {"en": "Call type", "zh": "呼叫类型"},
    "shift": {"en": "Shift", "zh": "班次"},
    "state": {"en": "State", "zh": "状态"},
    "age": {"en": "Age", "zh": "时长"},
    "raised_at": {"en": "Raised", "zh": "呼叫时间"},
    "timeline": {"en": "Timeline", "zh": "时间线"},
    "when": {"en": "When", "zh": "时间"},
    "who": {"en": "Who", "zh": "操作人"},
    "source": {"en": "From", "zh": "来源"},
    "suggestions": {"en": "How calls like this were fixed", "zh": "类似呼叫的解决方法"},
    "most_frequent": {"en": "Most frequent", "zh": "最常见"},
    "most_recent": {"en": "Most recent", "zh": "最近"},
    "no_fixes": {"en": "No earlier fixes here yet.", "zh": "暂无历史解决记录。"},
    "same_characteristic": {
        "en": "Fixes of calls on the same characteristic, at any station:",
        "zh": "同一特性（任意工位）呼叫的解决方法：",
    },
    "no_characteristic_fixes": {
        "en": "No earlier call on this characteristic was fixed yet.",
        "zh": "该特性暂无历史解决记录。",
    },
    "times": {"en": "Response times", "zh": "响应时间"},
    "to_acknowledge_s": {"en": "To acknowledge", "zh": "至响应"},
    "to_arrive_s": {"en": "To arrive", "zh": "至到场"},
    "to_resolve_s": {"en": "To resolve", "zh": "至解决"},
    "unattended_s": {"en": "Unattended", "zh": "无人处理"},
    "median": {"en": "Median", "zh": "中位数"},
    "mean": {"en": "Mean", "zh": "平均"},
    "total": {"en": "Total", "zh": "合计"},
    "calls": {"en": "Calls", "zh": "呼叫数"},
    "share": {"en": "Share", "zh": "占比"},
    "cumulative": {"en": "Cumulative", "zh": "累计"},
    "pareto": {"en": "Calls by reason (Pareto)", "zh": "按原因统计（帕累托）"},
    "since": {"en": "From", "zh": "开始"},
    "until": {"en": "To", "zh": "结束"},
    "all_lines": {"en": "All lines", "zh": "全部产线"},
    "show": {"en": "Show", "zh": "查询"},
    "csv": {"en": "CSV", "zh": "CSV"},
    "by_line": {"en": "By line", "zh": "按产线"},
    "by_station": {"en": "By station", "zh": "按工位"},
    "by_call_type": {"en": "By call type", "zh": "按呼叫类型"},
    "by_shift": {"en": "By shift", "zh": "按班次"},
    "no_calls": {"en": "No calls in this period.", "zh": "该时段没有呼叫。"},
    "resolved_calls": {"en": "Resolved", "zh": "已解决"},
    "language": {"en": "中文", "zh": "English"},
    "quality_figures": {"en": "Quality by station and shift", "zh": "各工位、班次质量指标"},
    "quality_definitions": {
        "en": "From the parts the stations' counters counted. Defect rate = defective / "
        "inspected; rework rate = reworked / inspected; first-pass yield = parts good the "
        "first time (inspected − defective − reworked) / inspected. A counter reset is "
        "counted from 0, not as a loss.",
        "zh": "根据各工位计数器统计的零件数计算。不良率 = 不良数 / 检验数；返工率 = 返工数 / "
        "检验数；一次合格率 = 一次合格数（检验数 − 不良数 − 返工数）/ 检验数。计数器清零后从 0 "
        "重新累计，不计为损失。",
    },
    "quality_trend": {"en": "This week against last week", "zh": "本周与上周对比"},
    "no_counts": {
        "en": "No parts counted in this period: no station's counters have reached the hub.",
        "zh": "该时段没有计数数据：尚无工位计数器数据到达。",
    },
    "inspected": {"en": "Inspected", "zh": "检验数"},
    "defective": {"en": "Defective", "zh": "不良数"},
    "reworked": {"en": "Reworked", "zh": "返工数"},
    "defect_rate": {"en": "Defect rate", "zh": "不良率"},
    "rework_rate": {"en": "Rework rate", "zh": "返工率"},
    "first_pass_yield": {"en": "First-pass yield", "zh": "一次合格率"},
    "all_shifts": {"en": "All shifts", "zh": "全部班次"},
    "last_week": {"en": "Last week", "zh": "上周"},
    "this_week": {"en": "This week", "zh": "本周"},
    "change": {"en": "Change", "zh": "变化"},
    "points": {"en": "pt", "zh": "个百分点"},
    # Weekly trends (reports_trends.html, trends.js).
    "trends": {"en": "Weekly trends (12 weeks)", "zh": "周趋势（12周）"},
    "trends_definitions": {
        "en": "One point per week, Monday to Sunday in the site's time zone, up to the "
        "week holding the period's end. Times: the median over the calls raised in the "
        "week in which the step happened. Rates: the parts counted in the week, summed "
        "over the stations with the counters a rate needs, then divided. No point: "
        "nothing to compute it from.",
        "zh": "每周一个点（工厂时区的周一至周日），截至包含查询结束日的那一周。时间：该周发起的"
        "呼叫中发生了该步骤者的中位数。比率：该周各具备相应计数器的工位的零件数合计后相除。"
        "无点：该周没有可计算的数据。",
    },
    "week": {"en": "Week", "zh": "周"},
    # Recurrences (call page, inbox, board, reports).
    "recurrence": {"en": "Recurrence", "zh": "重复发生"},
    "recurs_call": {"en": "Recurs call #{id}", "zh": "重复发生（呼叫 #{id}）"},
    "recurrence_asks": {
        "en": "This problem came back after a recent fix: why, and what stops it?",
        "zh": "该问题在近期处理后再次发生：原因是什么，如何防止再发？",
    },
    "root_cause": {"en": "Root cause", "zh": "根本原因"},
    "countermeasure": {"en": "Countermeasure", "zh": "对策"},
    "recurrences": {"en": "Recurrences", "zh": "重复发生次数"},
    "recurrence_rate": {"en": "Recurrence rate", "zh": "重复发生率"},
    "recurrences_by_station": {"en": "Recurrences by station", "zh": "按工位统计重复发生"},
    "recurrences_by_reason": {"en": "Recurrences by reason", "zh": "按原因统计重复发生"},
    "recurrence_definition": {
        "en": "Of the calls raised in the period and resolved with a reason: those raised "
        "at a station within the hub's recurrence days of a fix there with the same reason "
        "(or, for an SPC call, on the same characteristic). Rate = recurrences / resolved.",
        "zh": "在该时段发起并已按原因解决的呼叫中：在同一工位、上次以相同原因（SPC 呼叫为相同"
        "特性）处理后的设定天数内再次发起的呼叫。重复发生率 = 重复发生次数 / 已解决数。",
    },
    "part": {"en": "Part", "zh": "零件"},
    "notifications": {"en": "Notifications", "zh": "通知记录"},
    "no_notifications": {
        "en": "Nobody has been notified of this call.",
        "zh": "该呼叫尚未通知任何人。",
    },
    "level": {"en": "Level", "zh": "级别"},
    "person": {"en": "Person", "zh": "通知对象"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "attempt": {"en": "Attempt", "zh": "尝试次数"},
    "outcome": {"en": "Outcome", "zh": "结果"},
    "error": {"en": "Error", "zh": "错误"},
    "notification_queued": {"en": "Waiting to send", "zh": "等待发送"},
    "notification_sending": {"en": "Sending", "zh": "发送中"},
    "notification_sent": {"en": "Sent", "zh": "已发送"},
    "notification_failed": {"en": "Failed", "zh": "发送失败"},
    "notification_unknown": {"en": "Cut off, sent again", "zh": "发送中断，已重发"},
    "charts": {"en": "Control charts", "zh": "控制图"},
    "chart": {"en": "Control chart", "zh": "控制图"},
    "characteristic": {"en": "Characteristic", "zh": "特性"},
    "chart_kind": {"en": "Chart", "zh": "图类型"},
    "center": {"en": "Center", "zh": "中心线"},
    "lcl": {"en": "LCL", "zh": "下控制限"},
    "ucl": {"en": "UCL", "zh": "上控制限"},
    "last_point": {"en": "Last point", "zh": "最新点"},
    "recent_anomalies": {"en": "Recent anomalies", "zh": "近期异常"},
    "anomalies_24h": {"en": "Anomalies (24 h)", "zh": "异常（24小时）"},
    "no_characteristics": {"en": "No characteristic has sent points yet.", "zh": "尚无特性数据。"},
    "no_points": {"en": "No points yet.", "zh": "暂无数据点。"},
    "no_anomalies": {"en": "No anomalies.", "zh": "没有异常。"},
    "rule_settings": {"en": "Rule settings", "zh": "判异规则设置"},
    "measurement": {"en": "Measurement", "zh": "测量值"},
    "tests_seen": {"en": "Tests failed so far", "zh": "已触发的判异准则"},
    "test": {"en": "Test", "zh": "准则"},
    "tests": {"en": "Tests", "zh": "准则"},
    "subgroup": {"en": "Subgroup", "zh": "子组"},
    "value": {"en": "Value", "zh": "值"},
    "points_shown": {"en": "Points shown", "zh": "显示点数"},
    "live": {"en": "Live", "zh": "实时"},
    "menu": {"en": "Menu", "zh": "菜单"},
    "choose_reason": {"en": "Choose a reason…", "zh": "请选择原因…"},
    "done_acknowledge": {
        "en": "You acknowledged this call: you are on the way.",
        "zh": "您已响应此呼叫，请前往工位。",
    },
    "done_arrive": {
        "en": "You are at the station: resolve the call when it is fixed.",
        "zh": "您已到场，处理完毕后请点击解决。",
    },
    "more_calls_one": {"en": "+{n} more call here", "zh": "本工位另有 {n} 个呼叫"},
    "more_calls": {"en": "+{n} more calls here", "zh": "本工位另有 {n} 个呼叫"},
    "ack_confirm_title": {"en": "Acknowledge this call?", "zh": "响应此呼叫？"},
    "ack_confirm_text": {
        "en": "Acknowledge this call as {person}: the others are no longer asked.",
        "zh": "以 {person} 的身份响应此呼叫，系统将不再通知其他人。",
    },
    "ack_done_title": {"en": "Acknowledged", "zh": "已响应"},
    "ack_done_text": {
        "en": "{person} acknowledged this call: you are expected at the station.",
        "zh": "{person} 已响应此呼叫，请前往工位。",
    },
    "ack_refused_title": {"en": "Link refused", "zh": "链接无效"},
    "ack_nothing_title": {"en": "Nothing to acknowledge", "zh": "无需响应"},
    "ack_nothing_text": {
        "en": "This call is no longer waiting: {state}.",
        "zh": "此呼叫已不在等待响应：{state}。",
    },
    "ack_used": {"en": "This link was already used.", "zh": "此链接已使用过。"},
    "ack_tampered": {
        "en": "This link is not valid: it was changed or cut short.",
        "zh": "此链接无效：链接被修改或不完整。",
    },
    "ack_invalid": {"en": "This link is not valid.", "zh": "此链接无效。"},
    "ack_expired": {
        "en": "This link expired at {time} UTC.",
        "zh": "此链接已于 {time} UTC 过期。",
    },
    "ack_no_call": {"en": "Call {id} does not exist.", "zh": "呼叫 {id} 不存在。"},
    "ack_as": {"en": "As", "zh": "响应人"},
    "rules_note": {
        "en": "The edge's rule file decides; these are the settings its points carry.",
        "zh": "判异规则由边缘端规则文件决定；此处显示数据点携带的设置。",
    },
    # Chart axes and anomaly actions (charts, reports).
    "unit": {"en": "Unit", "zh": "单位"},
    "raise_call": {"en": "Raise a call", "zh": "发起呼叫"},
    "outside_shifts": {"en": "Outside shifts", "zh": "非班次时间"},
    # Durations (Andon.duration fills the places in).
    "duration_s": {"en": "{s} s", "zh": "{s}秒"},
    "duration_min_s": {"en": "{m} min {s} s", "zh": "{m}分{s}秒"},
    "duration_h_min": {"en": "{h} h {m} min", "zh": "{h}小时{m}分"},
    # A call's timeline: whom an escalation told, and where each action came from.
    "level_told": {"en": "Level {level}: {people}", "zh": "级别 {level}：{people}"},
    "source_api": {"en": "Page or API", "zh": "页面或接口"},
    "source_station": {"en": "Station", "zh": "工位"},
    "source_hub": {"en": "Andon hub", "zh": "安灯系统"},
    # Roster overrides (/rosters).
    "rosters": {"en": "Roster overrides", "zh": "替班安排"},
    "overrides": {"en": "Now and to come", "zh": "当前及今后的替班"},
    "override_person": {"en": "Who answers", "zh": "替班人"},
    "override_covers": {"en": "Instead of", "zh": "被替班人"},
    "override_by": {"en": "Made by", "zh": "创建人"},
    "ends_on": {"en": "End date (if not the next)", "zh": "结束日期（不填则为最近一次）"},
    "add_override": {"en": "Add override", "zh": "添加替班"},
    "remove": {"en": "Remove", "zh": "删除"},
    "no_overrides": {"en": "No overrides now or to come.", "zh": "当前及今后没有替班安排。"},
    "override_hint": {
        "en": "Times are the site's, {zone}. An end before the start is the next day. "
        "While an override lasts, escalation tells who answers wherever it would tell the "
        "other person. A swap is two overrides, one each way.",
        "zh": "时间为工厂所在时区（{zone}）。结束时间早于开始时间表示次日。替班期间，"
        "原本通知被替班人的升级通知改为通知替班人。换班即两条替班记录，双方各替一次。",
    },
    "source_badge": {"en": "Badge", "zh": "工牌"},
}


def choose_language(request: Request) -> str:
    """``?lang=``, else the cookie the switch set, else Accept-Language, else English."""
    for explicit in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if explicit in LANGUAGES:
            return explicit
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    """The supported language the browser ranks highest (``zh-CN;q=0.9, en;q=0.8``)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "en"


def texts(language: str) -> dict[str, str]:
    """Every word of the pages in ``language`` (English where a word lacks it: a page
    that still works, and that tests/hub/web/test_chinese_pages.py fails)."""
    return {key: words.get(language, words["en"]) for key, words in TEXTS.items()}
