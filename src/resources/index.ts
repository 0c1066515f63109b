// Owns the list of resources: their definitions, and their operations (the /common and /admin parts of the route table).
import type { Operation } from '../api/operation';
import type { ResourceDef } from '../model/resource';
import { activityResource } from './activities/definition';
import { noteResource } from './notes/definition';
import { userResource } from './users/definition';
import { activityOperations } from './activities/operations';
import { noteOperations } from './notes/operations';
import { userOperations } from './users/operations';

/** Every resource, in foreign-key order (a resource after those it refers to). */
export const resourceDefinitions: readonly ResourceDef[] = [userResource, activityResource, noteResource];

export const resourceOperations: Operation[] = [...activityOperations, ...noteOperations, ...userOperations];
