"""Chinese labels of the codes the graph stores in English (fund scopes, expenditure types …)."""

KIND_LABELS = {"project": "项目", "indicator": "指标", "task": "重点任务", "line": "预算科目行"}
FIELD_LABELS = {"name": "名称", "alias": "名称（异写）", "goal": "绩效目标", "summary": "项目概述", "indicator": "绩效指标",
                "content": "主要实施内容", "outcome": "期望达到的目标", "basis": "设立依据", "clause": "绩效目标（摘句）"}
SCHEME_LABELS = {"functional": "支出功能分类科目", "economic": "支出经济分类科目"}
FUND_SCOPES = {"all": "全部资金", "general-public-budget": "一般公共预算", "government-fund": "政府性基金预算",
               "state-capital": "国有资本经营预算", "fiscal-appropriation": "财政拨款"}
EXPENDITURE_TYPES = {"all": "合计", "basic": "基本支出", "project": "项目支出", "running": "机关运行经费"}
FLOWS = {"expenditure": "支出", "income": "收入"}

BKG = "https://w3id.org/budgetkg/def#"
#: the two classification code lists (支出功能分类、支出经济分类) by the names URLs use
SCHEME_IRIS = {"functional": BKG + "FunctionalClassification", "economic": BKG + "EconomicClassification"}
