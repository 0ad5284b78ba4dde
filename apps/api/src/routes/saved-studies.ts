/**
 * Saved studies (issue 16), kept as experiments are: saved, listed, replaced in revisions (a study run
 * records the revision it ran), deleted (their study runs stay), exported as files and imported from them.
 * Every way in checks the study as a run would (expandStudy: its paths, values, size and charts), so a study
 * that could not run is refused when saved, 422 with the path, and nothing is written.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Study } from '@iommu-lab/db';
import {
  Document,
  ErrorSchema,
  STUDY_FILE_FORMAT,
  STUDY_FILE_VERSION,
  SavedStudyParams,
  SavedStudyView,
  type StudyFile,
  StudyFileSchema,
  type StudySpec,
  StudySpecSchema,
} from '@iommu-lab/wire';
import Type from 'typebox';
import { HttpError } from '../plugins/errors';
import { expandStudy } from '../studies/expand-study';
import { WITH_RUN_COUNT } from './experiment-views';
import { fileCheck } from './imported-file';

const errors = { 400: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema };
const checkFile = fileCheck<StudyFile>({
  noun: 'study',
  format: STUDY_FILE_FORMAT,
  version: STUDY_FILE_VERSION,
  foreign: 'not-a-study',
  schema: StudyFileSchema,
});

export function savedStudyView(study: Study & { _count: { runs: number } }) {
  return {
    id: study.id,
    name: study.name,
    title: study.title,
    revision: study.revision,
    spec: study.spec as StudySpec,
    createdAt: study.createdAt.toISOString(),
    updatedAt: study.updatedAt.toISOString(),
    runs: study._count.runs,
  };
}

/** The saved study, with its run count, or a 404. */
export async function findSavedStudy(app: FastifyInstance, id: string) {
  const study = await app.db.prisma.study.findUnique({ where: { id }, include: WITH_RUN_COUNT });
  if (!study) throw new HttpError(404, 'ENOENT', `no saved study "${id}".`, 'no-such-saved-study');
  return study;
}

/** The spec's columns as the table keeps them; expandStudy refuses (422) a study that could not run. */
const checked = (spec: StudySpec) => {
  expandStudy(spec);
  return { name: spec.name, title: spec.title, spec: spec as object };
};

export const savedStudyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { prisma } = app.db;
  const save = async (spec: StudySpec) =>
    savedStudyView(await prisma.study.create({ data: checked(spec), include: WITH_RUN_COUNT }));

  app.post(
    '/studies/saved',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['studies'],
        summary:
          'Save a study (a whole one: a built-in from GET /studies makes an editable copy), at revision 1',
        body: StudySpecSchema,
        response: { 201: SavedStudyView, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await save(request.body)),
  );

  app.get(
    '/studies/saved',
    {
      schema: {
        tags: ['studies'],
        summary: 'The saved studies, newest first',
        response: { 200: Type.Array(SavedStudyView), ...errors },
      },
    },
    async () =>
      (
        await prisma.study.findMany({
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          include: WITH_RUN_COUNT,
        })
      ).map(savedStudyView),
  );

  app.get(
    '/studies/saved/:study',
    {
      schema: {
        tags: ['studies'],
        summary: 'A saved study at its latest revision',
        params: SavedStudyParams,
        response: { 200: SavedStudyView, ...errors },
      },
    },
    async (request) => savedStudyView(await findSavedStudy(app, request.params.study)),
  );

  app.put(
    '/studies/saved/:study',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['studies'],
        summary: "Replace a saved study's spec: its next revision (its earlier runs keep the spec they ran)",
        params: SavedStudyParams,
        body: StudySpecSchema,
        response: { 200: SavedStudyView, ...errors },
      },
    },
    async (request) => {
      await findSavedStudy(app, request.params.study);
      const updated = await prisma.study.update({
        where: { id: request.params.study },
        data: { ...checked(request.body), revision: { increment: 1 } },
        include: WITH_RUN_COUNT,
      });
      return savedStudyView(updated);
    },
  );

  app.delete(
    '/studies/saved/:study',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['studies'],
        summary: 'Delete a saved study; its study runs and their reports stay',
        params: SavedStudyParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await findSavedStudy(app, request.params.study);
      await prisma.study.delete({ where: { id: request.params.study } });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/studies/saved/:study/export',
    {
      schema: {
        tags: ['studies'],
        summary: 'The saved study as a file to import elsewhere',
        params: SavedStudyParams,
        response: { 200: StudyFileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const study = await findSavedStudy(app, request.params.study);
      // The name is lower case, digits and dashes (StudySpecSchema): safe in a file name as it is.
      reply.header('content-disposition', `attachment; filename="${study.name}.study.iommu-lab.json"`);
      const file: StudyFile = {
        format: STUDY_FILE_FORMAT,
        version: STUDY_FILE_VERSION,
        exportedAt: new Date().toISOString(),
        revision: study.revision,
        study: study.spec as StudySpec,
      };
      return file;
    },
  );

  app.post(
    '/studies/saved/import',
    {
      config: { needs: ['database'] },
      schema: {
        tags: ['studies'],
        summary: 'Import an exported study file (format and version checked first) as a new saved study',
        body: Document,
        response: { 201: SavedStudyView, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await save(checkFile(request.body).study)),
  );
};
