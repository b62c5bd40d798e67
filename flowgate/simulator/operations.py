"""The lifecycle operations the simulated engine sends, as an external engine would."""

ERROR_FIELDS = "... on Error { code message }"
START = f"""
mutation SimulatorStart($agentId: ID, $workflowId: ID, $input: JSON, $key: String) {{
  startExecution(agentId: $agentId, workflowId: $workflowId, input: $input,
                 idempotencyKey: $key) {{
    __typename
    ... on StartExecutionPayload {{ execution {{ id }} }}
    {ERROR_FIELDS}
  }}
}}
"""
STEP = f"""
mutation SimulatorStep($id: ID!, $step: StepInput!, $key: String) {{
  reportExecutionStep(executionId: $id, step: $step, idempotencyKey: $key) {{
    __typename
    ... on ReportExecutionStepPayload {{ eventSeq }}
    {ERROR_FIELDS}
  }}
}}
"""
ENDED_FIELDS = f"""
    __typename
    ... on FinishExecutionPayload {{ execution {{ status durationMs tokens cost }} }}
    {ERROR_FIELDS}
"""
FINISH = f"""
mutation SimulatorFinish($id: ID!, $status: ExecutionStatus!, $result: JSON, $error: String,
                         $key: String) {{
  finishExecution(executionId: $id, status: $status, result: $result, error: $error,
                  idempotencyKey: $key) {{ {ENDED_FIELDS} }}
}}
"""
CANCEL = f"""
mutation SimulatorCancel($id: ID!, $reason: String, $key: String) {{
  cancelExecution(executionId: $id, reason: $reason, idempotencyKey: $key) {{ {ENDED_FIELDS} }}
}}
"""
