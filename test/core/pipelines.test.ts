import assert from 'node:assert/strict';
import { HTTPCallErrorError, InferenceConfiguration, InvalidParameterError } from '../../src/core';
import { useSimulatorClient } from './simulatorSuite';

const KEY = 'pipelines-key-0123456789';
const SPECIFICATION = { version: '1.0', inputs: [{ type: 'WorkflowImage', name: 'image' }], steps: [], outputs: [] };

describe('inference pipelines', () => {
  const suite = useSimulatorClient(KEY);
  const { only } = suite;

  async function startPipeline(): Promise<string> {
    const started = await suite.client.startInferencePipelineWithWorkflow({ videoReference: 'rtsp://camera.invalid/stream', workflowSpecification: SPECIFICATION });
    const pipelineId = (started.context as { pipeline_id: string }).pipeline_id;
    assert.equal(typeof pipelineId, 'string');
    return pipelineId;
  }

  it('starts a pipeline with upstream defaults and nulls in the full nested payload', async () => {
    await suite.client.startInferencePipelineWithWorkflow({ videoReference: 0, workspaceName: 'ws', workflowId: 'wf' });
    const request = only('/inference_pipelines/initialise');
    assert.equal(request.method, 'POST');
    assert.deepEqual(Object.keys(request.body as object), ['api_key', 'video_configuration', 'processing_configuration', 'sink_configuration']);
    assert.deepEqual(request.body, {
      api_key: KEY,
      video_configuration: {
        type: 'VideoConfiguration',
        video_reference: 0,
        max_fps: null,
        source_buffer_filling_strategy: 'DROP_OLDEST',
        source_buffer_consumption_strategy: 'EAGER',
        video_source_properties: null,
        batch_collection_timeout: null,
      },
      processing_configuration: {
        type: 'WorkflowConfiguration',
        workflow_specification: null,
        workspace_name: 'ws',
        workflow_id: 'wf',
        image_input_name: 'image',
        workflows_parameters: null,
        workflows_thread_pool_workers: 4,
        cancel_thread_pool_tasks_on_exit: true,
        video_metadata_input_name: 'video_metadata',
      },
      sink_configuration: { type: 'MemorySinkConfiguration', results_buffer_size: 64 },
    });
  });

  it('passes every option through', async () => {
    await suite.client.startInferencePipelineWithWorkflow({
      videoReference: ['a.mp4', 'b.mp4'],
      workflowSpecification: SPECIFICATION,
      imageInputName: 'frame',
      workflowsParameters: { threshold: 0.3 },
      workflowsThreadPoolWorkers: 2,
      cancelThreadPoolTasksOnExit: false,
      videoMetadataInputName: 'meta',
      maxFps: 5,
      sourceBufferFillingStrategy: 'WAIT',
      sourceBufferConsumptionStrategy: 'LAZY',
      videoSourceProperties: { fps: 30 },
      batchCollectionTimeout: 0.5,
      resultsBufferSize: 8,
    });
    const body = only('/inference_pipelines/initialise').body as Record<string, Record<string, unknown>>;
    assert.deepEqual(body.video_configuration, {
      type: 'VideoConfiguration',
      video_reference: ['a.mp4', 'b.mp4'],
      max_fps: 5,
      source_buffer_filling_strategy: 'WAIT',
      source_buffer_consumption_strategy: 'LAZY',
      video_source_properties: { fps: 30 },
      batch_collection_timeout: 0.5,
    });
    assert.deepEqual(body.processing_configuration, {
      type: 'WorkflowConfiguration',
      workflow_specification: SPECIFICATION,
      workspace_name: null,
      workflow_id: null,
      image_input_name: 'frame',
      workflows_parameters: { threshold: 0.3 },
      workflows_thread_pool_workers: 2,
      cancel_thread_pool_tasks_on_exit: false,
      video_metadata_input_name: 'meta',
    });
    assert.deepEqual(body.sink_configuration, { type: 'MemorySinkConfiguration', results_buffer_size: 8 });
  });

  it('requires exactly one way of naming the workflow', async () => {
    const message =
      'Parameters (`workspace_name`, `workflow_id`) can be used mutually exclusive with `workflow_specification`, but at least one must be set.';
    for (const workflow of [{}, { workspaceName: 'ws' }, { workspaceName: 'ws', workflowId: 'wf', workflowSpecification: SPECIFICATION }]) {
      await assert.rejects(suite.client.startInferencePipelineWithWorkflow({ videoReference: 0, ...workflow }), (error: Error) => {
        assert.ok(error instanceof InvalidParameterError);
        assert.equal(error.message, message);
        return true;
      });
    }
    assert.equal(suite.simulator.log.length, 0);
  });

  it('lists, inspects, pauses, resumes, consumes and terminates with upstream methods and bodies', async () => {
    const pipelineId = await startPipeline();
    suite.simulator.clearLog();

    const listed = await suite.client.listInferencePipelines();
    assert.ok((listed.pipelines as string[]).includes(pipelineId));
    await suite.client.getInferencePipelineStatus(pipelineId);
    await suite.client.pauseInferencePipeline(pipelineId);
    await suite.client.resumeInferencePipeline(pipelineId);
    const consumed = await suite.client.consumeInferencePipelineResult(pipelineId);
    await suite.client.consumeInferencePipelineResult(pipelineId, ['a']);
    await suite.client.terminateInferencePipeline(pipelineId);
    assert.ok(Array.isArray(consumed.outputs));

    const base = `/inference_pipelines/${pipelineId}`;
    assert.deepEqual(
      suite.simulator.log.map((request) => [request.method, request.path, request.body]),
      [
        ['GET', '/inference_pipelines/list', { api_key: KEY }],
        ['GET', `${base}/status`, { api_key: KEY }],
        ['POST', `${base}/pause`, { api_key: KEY }],
        ['POST', `${base}/resume`, { api_key: KEY }],
        ['GET', `${base}/consume`, { api_key: KEY, excluded_fields: [] }],
        ['GET', `${base}/consume`, { api_key: KEY, excluded_fields: ['a'] }],
        ['POST', `${base}/terminate`, { api_key: KEY }],
      ],
    );
    assert.equal(suite.simulator.log[0].headers['content-type'], 'application/json');
  });

  it('sends an empty body and the Bearer header in header transport', async () => {
    suite.client.configure(new InferenceConfiguration({ apiKeyTransport: 'header' }));
    await suite.client.listInferencePipelines();
    const request = only('/inference_pipelines/list');
    assert.deepEqual(request.body, {});
    assert.equal(request.headers.authorization, `Bearer ${KEY}`);
  });

  it('refuses an empty pipeline id without sending anything', async () => {
    const calls = [
      () => suite.client.getInferencePipelineStatus(''),
      () => suite.client.pauseInferencePipeline(''),
      () => suite.client.resumeInferencePipeline(''),
      () => suite.client.terminateInferencePipeline(''),
      () => suite.client.consumeInferencePipelineResult(''),
    ];
    for (const call of calls) {
      await assert.rejects(call(), (error: Error) => {
        assert.ok(error instanceof InvalidParameterError);
        assert.equal(error.message, 'Empty `pipeline_id` parameter detected');
        return true;
      });
    }
    assert.equal(suite.simulator.log.length, 0);
  });

  it('reports an unknown pipeline as HTTPCallErrorError 404 and does not retry 503', async () => {
    await assert.rejects(suite.client.getInferencePipelineStatus('no-such-pipeline'), (error: Error) => {
      assert.ok(error instanceof HTTPCallErrorError);
      assert.equal(error.statusCode, 404);
      return true;
    });
    suite.simulator.inject({ route: '/inference_pipelines/list', status: 503, count: 1 });
    await assert.rejects(suite.client.listInferencePipelines(), HTTPCallErrorError);
    assert.equal(suite.simulator.requests('/inference_pipelines/list').length, 1);
  });
});
