"""The wording of messages queued before schema 0008, for those still waiting when the product is upgraded.

A message is rendered when it is sent, from the context queued with it. Messages queued
by an earlier version carry the context its templates needed (no greeting, no signature
block); they are still made with the wording they were queued for, so an upgrade in the
middle of a campaign turns none of them into 无法生成. Nothing new is queued with these.
"""

LEGACY_TEMPLATES = {
    "task_notice.subject": '{{ prefix }}{{ task_label }}：{{ campaign_name }}{% if enterprise %}（{{ enterprise }}）{% endif %}',
    "task_notice.body": """\
{{ greeting }}：

{% if stage == "remind" -%}
“{{ task_label }}”将于 {{ due }}（北京时间）到期{% if provisional %}（暂定：该年节假日安排尚未发布，发布后可能调整）{% endif %}，尚余 {{ workdays_left }} 个工作日。
{%- elif stage == "overdue" -%}
“{{ task_label }}”已于 {{ due }}（北京时间）到期，尚未完成，请尽快办理。
{%- else -%}
“{{ task_label }}”已于 {{ due }}（北京时间）到期，已逾期 {{ workdays_overdue }} 个工作日，现提请{{ step_label }}督办。
{%- endif %}

抽查任务：{{ campaign_name }}（{{ campaign_code }}，{{ document_no }}）
{% if department %}责任部门：{{ department }}
{% endif %}{% if enterprise %}检查对象：{{ enterprise }}（统一社会信用代码 {{ uscc }}）
{% endif %}{% if officer %}执法人员：{{ officer }}
{% endif %}
办理方式：{{ what_to_do }}

{{ office }}
（本邮件由双随机抽查系统自动发送，编号 {{ key_digest }}；如已办理请忽略。）
""",
    "deadline_moved.subject": '【期限调整】{{ task_label }}：{{ campaign_name }}',
    "deadline_moved.body": """\
您好：

因节假日安排（工作日历）更新，抽查任务“{{ campaign_name }}”（{{ campaign_code }}）中“{{ task_label }}”的截止时间
由 {{ before }} 调整为 {{ after }}（北京时间）{% if provisional %}，仍为暂定{% endif %}。请按新的期限办理。

{{ office }}
（本邮件由双随机抽查系统自动发送。）
""",
    "dispatch.subject": '【派发】{{ campaign_name }}：请于 {{ due }} 前完成比对确认（{{ count }} 户）',
    "dispatch.body": """\
{{ department }}：

根据《{{ document_no }}》，{{ office }}已于 {{ drawn_at }} 公开随机抽取检查对象，其中 {{ count }} 户派发贵单位比对确认。
请在附件“{{ attachment_name }}”的“是否检查”列填写“是”或“否”（“否”须填写不检查理由），于 {{ due }}（北京时间）前
原样回复本邮件或交领导小组办公室导入（ssj confirm import）。{% if provisional %}（期限为暂定。）{% endif %}

{{ office }}
（本邮件由双随机抽查系统自动发送。）
""",
    "forms_dispatch.subject": '【一企一表】{{ campaign_name }}：您的 {{ visits|length }} 户企业实地核查安排',
    "forms_dispatch.body": """\
{{ officer }}：

{{ office }}已生成本次联合抽查的一企一表（见附件）。您参加以下企业的联合实地核查（一次性完成）：
{% for v in visits %}- {{ v.day }} 第 {{ v.group }} 组：{{ v.enterprise }}（{{ v.uscc }}），{{ v.address }}
{% endfor %}
请于 {{ due }}（北京时间）前确认收到（ssj ack {{ campaign_code }} {{ certificate_no }}）{% if provisional %}（期限为暂定）{% endif %}。
实地核查后请按一企一表如实记录，并在回填期限内回填结果。

{{ office }}
（本邮件由双随机抽查系统自动发送。）
""",
    "draw_pending.subject": '【提醒】{{ campaign_name }}：公开抽取尚未进行',
    "draw_pending.body": """\
领导小组办公室：

抽查任务“{{ campaign_name }}”（{{ campaign_code }}）计划于 {{ draw_at }}（北京时间）公开抽取，至 {{ now }} 尚未进行。
请各抽取参与方在自己的设备上生成密钥（ssj draw secret），只交出承诺值；先记录并公布各方承诺
（ssj draw commit {{ campaign_code }} --commitment 参与方=承诺值 …），再在见证人到场时由各方公开密钥、公开抽取
（ssj draw run {{ campaign_code }} --reveal 参与方=密钥 … --witness …）。

（本邮件由双随机抽查系统自动发送，每天至多一次。）
""",
    "match_commitments.subject": '【执法人员抽取】{{ campaign_name }}：比对确认已完成，{% if parties %}请各参与方提交承诺值{% else %}请提交执法人员抽取承诺{% endif %}',
    "match_commitments.body": """\
领导小组办公室：

抽查任务“{{ campaign_name }}”（{{ campaign_code }}）的比对确认已全部完成（截至 {{ at }}，北京时间），
{{ confirmed }} 户企业需要实地核查。下一步是随机抽取执法检查人员。
{% if parties %}
为保证办公室、任何一个参与方和本系统都不能单独决定抽取结果，执法人员抽取由以下参与方共同完成：
{% for p in parties %}  {{ loop.index }}. {{ p }}
{% endfor %}
请按以下步骤办理：

一、各参与方在本方自己的电脑上运行 ssj draw secret，得到本方的密钥（secret）和承诺值（commitment）。
    密钥由本方保管，公开抽取之前不交给任何人（包括办公室）；只把承诺值交给办公室。

二、办公室收齐各方的承诺值后运行（尖括号处换成各方交来的承诺值）：
    ssj match commit {{ campaign_code }}{% for p in parties %} --commitment {{ p }}=<承诺值>{% endfor %}
    系统固定执法人员名录快照，并将快照哈希和各方承诺值发到本邮箱，请在公开抽取前公布。

三、公开抽取时，各参与方到场当场公开本方密钥，见证人提供见证文本，办公室运行：
    ssj match run {{ campaign_code }}{% for p in parties %} --reveal {{ p }}=<密钥>{% endfor %} --witness "<见证文本>"
    密钥与承诺值不符的，系统拒绝并指出是哪一方；有参与方未公开密钥的，抽取推迟并记入审计记录。
    抽取后系统自动生成一企一表并派发给执法人员。
{% else %}
本抽查任务创建于 ssj-match-v2 之前（任务文件没有 [draw] parties），仍按 ssj-match-v1 抽取：
请运行 ssj match commit {{ campaign_code }} 固定执法人员名录快照并提交承诺，公布承诺值和快照哈希后，
在见证人到场时运行 ssj match run {{ campaign_code }} --witness "<见证文本>"。抽取后系统自动生成一企一表并派发给执法人员。
{% endif %}
（本邮件由双随机抽查系统自动发送，只发送一次。）
""",
    "match_committed.subject": '【待公布】{{ campaign_name }}：执法人员抽取承诺已记录',
    "match_committed.body": """\
领导小组办公室：

抽查任务“{{ campaign_name }}”（{{ campaign_code }}）的执法人员抽取承诺已于 {{ at }}（北京时间）记录（{{ algorithm }}）：
系统固定了执法人员名录快照（{{ officers }} 名执法人员）{% if algorithm == "ssj-match-v1" %}并抽取了密钥{% else %}，各参与方提交了承诺值{% endif %}：

  快照哈希 snapshot_sha256：{{ snapshot_sha256 }}
{% for p in parties %}  {{ p.party }} 的承诺值 commitment：{{ p.commitment }}
{% endfor %}
{% if algorithm == "ssj-match-v1" %}请在执法人员公开抽取前公布以上各值，然后在见证人到场时公开抽取：
  ssj match run {{ campaign_code }} --witness "<见证文本>"
{% else %}请在执法人员公开抽取前公布以上各值。公开抽取时各参与方到场公开本方密钥，由见证人提供见证文本：
  ssj match run {{ campaign_code }}{% for p in parties %} --reveal {{ p.party }}=<密钥>{% endfor %} --witness "<见证文本>"
{% endif %}抽取后系统自动生成一企一表并派发给执法人员。

（本邮件由双随机抽查系统自动发送。）
""",
    "overdue_report.subject": '【逾期报告】{{ campaign_name }}（{{ day }}）：逾期事项 {{ count }} 项',
    "overdue_report.body": """\
领导小组办公室：

截至 {{ at }}（北京时间），抽查任务“{{ campaign_name }}”（{{ campaign_code }}）共有逾期事项 {{ count }} 项。
{% for row in departments %}- {{ row.name }}：{{ row.tasks }} 项，最长逾期 {{ row.worst }} 个工作日
{% else %}各部门均无逾期事项。
{% endfor %}{% if joint is defined and joint %}注：{{ joint }}
{% endif %}
逾期部门报告见附件（{{ attachment_name }}）。
{% if mail_problems is defined and mail_problems %}
邮件：{{ mail_problems }}（ssj campaign status {{ campaign_code }}）。
{% endif %}
（本邮件由双随机抽查系统在每个工作日自动发送。）
""",
}
